/** The benchmarks' command-line options. */

/** The number given as `--name N` on the command line, or `def` without the option. */
export function arg(name: string, def: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : def;
}

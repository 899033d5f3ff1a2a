/** The benchmarks' command-line options. */

/** The number given as `--name N` on the command line, or `def` without the option. */
export function arg(name: string, def: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : def;
}

/**
 * DuckDB's bounds from the environment, as a worker reads them (`DUCKDB_MEMORY_LIMIT`, `DUCKDB_THREADS`,
 * `DUCKDB_TEMP_DIR`; unset, the worker's defaults apply) — and nothing else of DuckDB's: a `DUCKDB_PATH` in the
 * shell must not send a benchmark's rows into a real warehouse.
 */
export function duckdbBounds(): Record<string, string> {
  const names = ['DUCKDB_MEMORY_LIMIT', 'DUCKDB_THREADS', 'DUCKDB_TEMP_DIR'];
  return Object.fromEntries(names.flatMap((k) => (process.env[k] ? [[k, process.env[k]!]] : [])));
}

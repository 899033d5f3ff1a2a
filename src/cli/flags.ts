/**
 * Turns free-form `--kebab-case value` flags into a pipeline input object (camelCase keys). Values that
 * read as JSON (numbers, booleans, arrays, objects) are parsed; list flags split on commas.
 */
export function flagsToInput(args: string[], listFlags: string[] = []): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    if (!a.startsWith('--')) throw new Error(`Unexpected argument "${a}" (pipeline options are --name value)`);
    const [name, inline] = a.slice(2).split(/=(.*)/s, 2) as [string, string | undefined];
    let value = inline;
    if (value === undefined) {
      const next = args[i + 1];
      if (next === undefined || next.startsWith('--')) value = 'true';
      else value = args[++i];
    }
    const key = name.replace(/-([a-z])/g, (_, c: string) => c.toUpperCase());
    if (listFlags.includes(key))
      out[key] = value
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean);
    else out[key] = parseScalar(value);
  }
  return out;
}

function parseScalar(v: string): unknown {
  if (/^(true|false|null|-?\d+(\.\d+)?|\[.*\]|\{.*\})$/s.test(v)) {
    try {
      return JSON.parse(v);
    } catch {
      return v;
    }
  }
  return v;
}

/**
 * The arguments left for the pipeline once a command's own options are taken out: `valued` options drop
 * with their value (`--input file`), `switches` alone (`--wait`).
 */
export function pipelineArgs(args: string[], valued: string[], switches: string[] = []): string[] {
  const out: string[] = [];
  for (let i = 0; i < args.length; i++) {
    if (valued.includes(args[i])) i++;
    else if (!switches.includes(args[i])) out.push(args[i]);
  }
  return out;
}

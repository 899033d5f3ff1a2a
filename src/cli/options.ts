/**
 * A pipeline's options as the user sees them, read from its input schema: the flag, a type in words, the
 * default, a one-line description (the schema's `.describe()`), and errors that name the flag in user
 * language (`--metrics: required, comma-separated, e.g. VIEWS,TIME_WATCHED_SECONDS`) instead of zod's.
 */
import { z } from 'zod';
import type { PipelineDef } from '../pipelines/types';

export interface OptionInfo {
  /** The input's key (camelCase) and its flag (`--kebab-case`). */
  key: string;
  flag: string;
  /** In words: "integer 1–180", "list of VIEWS|… (comma-separated)", "switch". */
  type: string;
  required: boolean;
  default?: unknown;
  description?: string;
  /** The values an enum option (or a list of them) accepts. */
  values?: string[];
  /** Given as a comma-separated list on the command line. */
  list: boolean;
}

type Any = z.core.$ZodType;
const defOf = (s: Any) => s._zod.def as unknown as Record<string, unknown> & { type: string };
const metaOf = (s: Any) => z.globalRegistry.get(s as z.ZodType) as { description?: string; type?: string } | undefined;

/** The schema under its wrappers (optional, default, pipe…), with what the wrappers said on the way. */
function unwrap(schema: Any): {
  inner: Any;
  optional: boolean;
  default?: unknown;
  description?: string;
  typeName?: string;
} {
  let s = schema;
  let optional = false;
  let dflt: unknown;
  let description: string | undefined;
  let typeName: string | undefined;
  for (let i = 0; i < 20; i++) {
    const m = metaOf(s);
    description ??= m?.description;
    typeName ??= m?.type;
    const d = defOf(s);
    if (d.type === 'optional' || d.type === 'nullable' || d.type === 'readonly' || d.type === 'catch') {
      if (d.type === 'optional') optional = true;
      s = d.innerType as Any;
    } else if (d.type === 'default' || d.type === 'prefault') {
      dflt ??= d.defaultValue;
      s = d.innerType as Any;
    } else if (d.type === 'pipe') {
      // A transform's input is what the user types; a preprocess (transform first) is read by its output.
      const from = d.in as Any;
      s = defOf(from).type === 'transform' ? (d.out as Any) : from;
    } else break;
  }
  return { inner: s, optional, default: dflt, description, typeName };
}

function enumValues(s: Any): string[] | undefined {
  const d = defOf(s);
  if (d.type === 'enum') return Object.values(d.entries as Record<string, string>).map(String);
  if (d.type === 'literal') return (d.values as unknown[]).map(String);
  return undefined;
}

const range = (min: unknown, max: unknown, unit = '') => {
  const lo = typeof min === 'number' && Number.isFinite(min) ? min : undefined;
  const hi = typeof max === 'number' && Number.isFinite(max) && max < Number.MAX_SAFE_INTEGER ? max : undefined;
  if (lo !== undefined && hi !== undefined) return ` ${lo}–${hi}${unit}`;
  if (lo !== undefined) return ` ≥ ${lo}${unit}`;
  if (hi !== undefined) return ` ≤ ${hi}${unit}`;
  return '';
};

/** The values shown for an enum: all of them up to 12, else the first 10 and how many in all. */
export function showValues(values: string[], sep = '|'): string {
  return values.length <= 12 ? values.join(sep) : `${values.slice(0, 10).join(sep)}… (${values.length} in all)`;
}

/** A schema's bounds and format, from its checks (`.int()`, `.min()`, `.max()`). */
function bounds(s: Any): { minimum?: number; maximum?: number; format?: string } {
  const out: { minimum?: number; maximum?: number; format?: string } = {};
  for (const c of (defOf(s).checks as Any[] | undefined) ?? []) {
    const d = defOf(c) as unknown as Record<string, unknown>;
    const v = (d.value ?? d.minimum ?? d.maximum) as number;
    if (d.check === 'number_format') out.format = d.format as string;
    else if (d.check === 'greater_than' || d.check === 'min_length') out.minimum = d.inclusive === false ? v + 1 : v;
    else if (d.check === 'less_than' || d.check === 'max_length') out.maximum = d.inclusive === false ? v - 1 : v;
  }
  return out;
}

/** A schema's type in words. */
function typeWords(schema: Any): string {
  const { inner, typeName } = unwrap(schema);
  if (typeName) return typeName;
  const d = defOf(inner);
  const bag = bounds(inner);
  const values = enumValues(inner);
  if (values)
    return values.length > 12 ? `a name (${values.length} values, listed below)` : `one of ${values.join('|')}`;
  switch (d.type) {
    case 'string':
      return 'text';
    case 'number':
      return `${bag.format === 'safeint' || bag.format === 'int32' ? 'integer' : 'number'}${range(bag.minimum, bag.maximum)}`;
    case 'boolean':
      return 'switch';
    case 'array': {
      const items = range(bag.minimum, bag.maximum, ' items');
      const of = typeWords(d.element as Any)
        .replace(/^one of /, '')
        .replace(/^a name \(/, 'names (');
      return `list of ${of}${items ? `, ${items.trim()}` : ''}`;
    }
    case 'object':
    case 'record':
      return 'JSON object';
    case 'union':
      return (d.options as Any[]).map(typeWords).join(' or ');
    default:
      return d.type;
  }
}

/** The flag of an input key: `windowDays` → `--window-days`. */
export const kebab = (key: string) => `--${key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`;

/** The object schema of a pipeline's input (through refinements and pipes). */
function shapeOf(def: PipelineDef): Record<string, Any> {
  const { inner } = unwrap(def.input as Any);
  const d = defOf(inner);
  return d.type === 'object' ? (d.shape as Record<string, Any>) : {};
}

/** Every option of a pipeline, in the schema's order. */
export function describeOptions(def: PipelineDef): OptionInfo[] {
  return Object.entries(shapeOf(def)).map(([key, schema]) => {
    const u = unwrap(schema);
    const list = def.listFlags?.includes(key) ?? false;
    const elem = defOf(u.inner).type === 'array' ? unwrap(defOf(u.inner).element as Any).inner : undefined;
    const values = enumValues(elem ?? u.inner);
    return {
      key,
      flag: kebab(key),
      type: `${typeWords(schema)}${list ? ' (comma-separated)' : ''}`,
      required: !u.optional && u.default === undefined,
      ...(u.default !== undefined ? { default: u.default } : {}),
      ...(u.description ? { description: u.description } : {}),
      ...(values ? { values } : {}),
      list,
    };
  });
}

/** Words wrapped at `width` characters. */
function wrap(text: string, width: number): string[] {
  const lines: string[] = [];
  let line = '';
  for (const word of text.split(' ')) {
    if (line && line.length + word.length + 1 > width) {
      lines.push(line);
      line = word;
    } else line = line ? `${line} ${word}` : word;
  }
  if (line) lines.push(line);
  return lines;
}

/** A value as typed on the command line: lists comma-separated, objects as JSON. */
function asFlagValue(v: unknown, list: boolean): string {
  if (Array.isArray(v) && list && v.every((x) => typeof x !== 'object')) return v.join(',');
  if (typeof v === 'string') return v;
  return JSON.stringify(v);
}

/** `longhaul run <pipeline> --help`: what the pipeline does and each option with its type, default and use. */
export function pipelineHelp(def: PipelineDef, command = 'run'): string {
  const opts = describeOptions(def);
  const lines = [
    `longhaul ${command} ${def.name} — ${def.description}`,
    '',
    'Options (or fields of --input file.json):',
  ];
  const width = Math.min(28, Math.max(...opts.map((o) => o.flag.length)) + 2);
  for (const o of opts) {
    const dflt = o.default !== undefined ? `; default ${asFlagValue(o.default, o.list)}` : '';
    const what = `${o.required ? 'required; ' : ''}${o.type}${dflt}`;
    lines.push(`  ${o.flag.padEnd(width)}${o.description ?? what}`);
    if (o.description) lines.push(`  ${' '.repeat(width)}${what}`);
    if (o.values && o.values.length > 12)
      lines.push(...wrap(o.values.join(', '), 100 - width).map((l) => `  ${' '.repeat(width)}  ${l}`));
  }
  const example = Object.entries(def.example)
    .map(([k, v]) => `${kebab(k)} ${JSON.stringify(asFlagValue(v, def.listFlags?.includes(k) ?? false))}`)
    .join(' ');
  lines.push('', `Example: longhaul ${command} ${def.name} ${example.replace(/"([^" ]*)"/g, '$1')}`);
  return lines.join('\n');
}

/** What went wrong with one option, in words ("at most 180"; "required"; "one of A|B"). */
function issueWords(issue: z.core.$ZodIssue): string {
  const i = issue as z.core.$ZodIssue & Record<string, unknown>;
  const unit = (origin: unknown) =>
    origin === 'array' || origin === 'set' ? ' items' : origin === 'string' ? ' characters' : '';
  switch (i.code) {
    case 'invalid_type':
      // zod v4 says "received undefined" for a missing key.
      return /received undefined/.test(i.message) ? 'required' : `expected ${String(i.expected)}`;
    case 'too_small':
      if (i.origin === 'array' && i.minimum === 1 && /^Too small/.test(i.message)) return 'at least one value';
      return /^Too small/.test(i.message)
        ? `${i.inclusive === false ? 'more than' : 'at least'} ${String(i.minimum)}${unit(i.origin)}`
        : i.message;
    case 'too_big':
      return /^Too big/.test(i.message)
        ? `${i.inclusive === false ? 'less than' : 'at most'} ${String(i.maximum)}${unit(i.origin)}`
        : i.message;
    case 'invalid_value':
      return /^Invalid option/.test(i.message)
        ? `not a valid value; one of ${showValues((i.values as unknown[]).map(String), ', ')}`
        : i.message;
    case 'unrecognized_keys':
      return `unknown field(s) ${(i.keys as string[]).map((k) => `"${k}"`).join(', ')}`;
    default:
      return i.message;
  }
}

/**
 * An invalid input in the user's words, one line per problem, each naming the flag (and the item or field
 * inside it) and, where it helps, the form expected and an example from the pipeline's own.
 */
export function inputErrorText(def: PipelineDef, error: z.ZodError): string {
  const options = new Map(describeOptions(def).map((o) => [o.key, o]));
  const lines = error.issues.map((issue) => {
    const [key, ...rest] = issue.path.map(String);
    const o = key !== undefined ? options.get(key) : undefined;
    if (!o) return `${key ?? 'input'}: ${issueWords(issue)}`;
    const where = rest.length
      ? /^\d+$/.test(rest[0])
        ? ` (item ${Number(rest[0]) + 1}${rest.length > 1 ? `, ${rest.slice(1).join('.')}` : ''})`
        : ` (${rest.join('.')})`
      : '';
    const words = issueWords(issue);
    const hints: string[] = [];
    if (o.list && !rest.length && words === 'required') hints.push('comma-separated');
    const example = def.example[o.key];
    // An example helps where the form is wrong (missing, wrong type, bad format), not where a rule was broken.
    const formWrong =
      issue.code === 'invalid_type' || issue.code === 'invalid_format' || /^(expected|not a )/.test(words);
    if (example !== undefined && formWrong && !/one of /.test(words))
      hints.push(`e.g. ${asFlagValue(example, o.list)}`);
    return `${o.flag}${where}: ${[words, ...hints].join(', ')}`;
  });
  return `Invalid input for ${def.name}:${lines.length > 1 ? `\n  ${lines.join('\n  ')}` : ` ${lines[0]}`}`;
}

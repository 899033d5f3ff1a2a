/**
 * Rows out of NDJSON records by a declared mapping (`Warehouse.loadJson`): each column read at a path of the
 * record, as one of a few readings. The same mapping is read here in JavaScript (`jsonRow`: the reader every
 * warehouse can use) and rendered in SQL by a warehouse that reads the files itself (DuckDB's
 * `read_ndjson_objects`), so both readings give the same rows. Node-free.
 *
 * Readings (a path that is missing at any level is absent):
 * - `text` (default): the value as it is — absent or null is NULL;
 * - `json`: an array or object as JSON text; anything else NULL;
 * - `digits`: a string of digits (0-9) as that integer (as the API writes counts); anything else NULL;
 * - `flag`: absent is NULL; `true` or "true" is true; anything else (null included) false;
 * - `isoDuration`: an ISO 8601 duration (PnW nD TnH nM nS, "PT4M13S") in seconds; anything else NULL.
 */
import type { Row } from './warehouse';

export type JsonReading = 'text' | 'json' | 'digits' | 'flag' | 'isoDuration';

export interface JsonField {
  column: string;
  /** Keys from the record's top: letters, digits and `_` only. */
  path: string[];
  as?: JsonReading;
}

/** A duration's parts: weeks, days, hours, minutes, seconds (the regular expression both readings use). */
export const ISO_DURATION = '^P(?:([0-9]+)W)?(?:([0-9]+)D)?(?:T(?:([0-9]+)H)?(?:([0-9]+)M)?(?:([0-9]+)S)?)?$';
const DURATION = new RegExp(ISO_DURATION);
const DIGITS = /^[0-9]+$/;

/** "PT1H4M13S", "P1DT2H" → seconds; undefined when not an ISO 8601 duration. */
export function isoDurationSeconds(iso: unknown): number | undefined {
  if (typeof iso !== 'string' || iso === 'P' || iso.endsWith('T')) return undefined;
  const m = DURATION.exec(iso);
  if (!m) return undefined;
  const [w, d, h, min, s] = m.slice(1).map((x) => Number(x ?? 0));
  return (((w * 7 + d) * 24 + h) * 60 + min) * 60 + s;
}

/** The value at `path`, or undefined when a level is missing (or not an object). */
function at(record: unknown, path: string[]): unknown {
  let v = record;
  for (const k of path) {
    if (v === null || typeof v !== 'object' || Array.isArray(v)) return undefined;
    v = (v as Record<string, unknown>)[k];
  }
  return v;
}

/** One field of a record, read as declared. */
export function jsonCell(record: unknown, f: JsonField): Row[string] {
  const v = at(record, f.path);
  switch (f.as ?? 'text') {
    case 'json':
      return v !== null && typeof v === 'object' ? JSON.stringify(v) : null;
    case 'digits': {
      if (typeof v !== 'string' || !DIGITS.test(v)) return null;
      const n = Number(v);
      return Number.isSafeInteger(n) ? n : BigInt(v).toString(); // exact beyond 2^53
    }
    case 'flag':
      return v === undefined ? null : v === true || v === 'true';
    case 'isoDuration':
      return isoDurationSeconds(v) ?? null;
    default:
      return v === undefined || v === null ? null : typeof v === 'object' ? JSON.stringify(v) : (v as string);
  }
}

/** A record's row by the mapping, plus `constants`. */
export function jsonRow(record: unknown, fields: JsonField[], constants: Record<string, string> = {}): Row {
  const row: Row = {};
  for (const f of fields) row[f.column] = jsonCell(record, f);
  return Object.assign(row, constants);
}

/** Checks a mapping's paths (they become SQL): keys of letters, digits and `_`. */
export function assertJsonFields(fields: JsonField[]): void {
  for (const f of fields)
    if (!f.path.length || f.path.some((k) => !/^[A-Za-z_][A-Za-z0-9_]*$/.test(k)))
      throw new Error(`JSON field ${f.column}: path ${JSON.stringify(f.path)} must be keys of letters, digits and _`);
}

/**
 * DuckDB's side of `Warehouse.loadJson`: the mapping's readings (src/sinks/json-fields.ts) as SQL over the
 * records of `read_ndjson_objects` — each record parsed once into the list of its values at the mapping's paths
 * (DuckDB's JSON functions parse their text at every call) — each giving the text `jsonCell` gives (which the load then casts to the
 * column's type, as it casts the rows of `load`).
 */
import { ISO_DURATION, type JsonField } from './json-fields';
import { literal } from './duckdb-csv';

/** The record's values at the mapping's paths, parsed once: a list (NULL where a path is missing). */
export function jsonValuesSql(fields: JsonField[]): string {
  return `json_extract(json, [${fields.map((f) => literal(`$.${f.path.join('.')}`)).join(', ')}])`;
}

/** The SQL of field `i` over `v`, the list jsonValuesSql gives: text, or NULL. */
export function jsonFieldSql(f: JsonField, i: number): string {
  const value = `v[${i + 1}]`;
  const type = `json_type(${value})`;
  const text = `json_extract_string(${value}, '$')`;
  switch (f.as ?? 'text') {
    case 'json':
      return `(CASE WHEN ${type} IN ('OBJECT', 'ARRAY') THEN CAST(${value} AS VARCHAR) END)`;
    case 'digits':
      return `(CASE WHEN ${type} = 'VARCHAR' AND regexp_full_match(${text}, '[0-9]+') THEN ${text} END)`;
    case 'flag':
      return (
        `(CASE WHEN ${type} IS NULL THEN NULL ` +
        `WHEN ${type} IN ('BOOLEAN', 'VARCHAR') AND ${text} = 'true' THEN 'true' ELSE 'false' END)`
      );
    case 'isoDuration': {
      const part = (n: number) =>
        `coalesce(TRY_CAST(nullif(regexp_extract(${text}, ${literal(ISO_DURATION)}, ${n}), '') AS BIGINT), 0)`;
      const seconds = `((((${part(1)} * 7 + ${part(2)}) * 24 + ${part(3)}) * 60 + ${part(4)}) * 60 + ${part(5)})`;
      return (
        `(CASE WHEN ${type} = 'VARCHAR' AND ${text} <> 'P' AND NOT suffix(${text}, 'T') ` +
        `AND regexp_full_match(${text}, ${literal(ISO_DURATION)}) THEN CAST(${seconds} AS VARCHAR) END)`
      );
    }
    default:
      return `(CASE WHEN ${type} = 'NULL' THEN NULL ELSE ${text} END)`;
  }
}

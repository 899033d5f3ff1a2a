/**
 * No SQL dialect outside the sinks: pipelines read the warehouse through typed reads (`select`, `count`,
 * src/sinks/read.ts) and write through `load`, so the same code runs on DuckDB and BigQuery. `query(sql)` is
 * for the user's own SQL only. This guard fails on a warehouse `query` call or SQL text anywhere else in src/.
 */
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

const SRC = path.join(__dirname, '../../src');

/** Files allowed to hold SQL, and why. */
const ALLOWED: Record<string, string> = {
  'client.ts': '`longhaul query`: runs the SQL the user typed, in their warehouse',
  'pipelines/titelive/activities/parse.ts':
    'a private DuckDB file used as the parse engine (Parquet), not the warehouse',
  'pipelines/titelive/activities/images-parquet.ts':
    'a private DuckDB file joining the parsed Parquet with the image rows (read through select) into Parquet',
  'cli/demo.ts': 'prints, for the user, the SQL that gives the same table (it reads through select)',
};

function files(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = path.join(dir, e.name);
    return e.isDirectory() ? files(p) : p.endsWith('.ts') ? [p] : [];
  });
}

const SQL = /\b(SELECT\s[\s\S]{0,200}?\sFROM|INSERT\s+INTO|DELETE\s+FROM|CREATE\s+TABLE|ALTER\s+TABLE|MERGE\s+INTO)\b/;
const RAW_QUERY = /\b(warehouse|wh|deps\.warehouse|this\.warehouse)\s*\.\s*query\s*[<(]/;

describe('the warehouse boundary speaks no dialect', () => {
  const checked = files(SRC)
    .map((f) => path.relative(SRC, f).split(path.sep).join('/'))
    .filter((f) => !f.startsWith('sinks/'));

  it('no warehouse query(sql) and no SQL text outside src/sinks (except the listed files)', () => {
    const offenders: string[] = [];
    for (const rel of checked) {
      if (ALLOWED[rel]) continue;
      const text = fs.readFileSync(path.join(SRC, rel), 'utf8');
      for (const re of [RAW_QUERY, SQL]) {
        const m = new RegExp(re.source, 'g').exec(text);
        if (m) offenders.push(`src/${rel}:${text.slice(0, m.index).split('\n').length}: ${m[0].slice(0, 80)}`);
      }
    }
    expect(offenders).toEqual([]);
  });

  it('finds what it looks for (the allowed files hold SQL, so the patterns match)', () => {
    const client = fs.readFileSync(path.join(SRC, 'client.ts'), 'utf8');
    expect(RAW_QUERY.test(client)).toBe(true);
    expect(SQL.test(fs.readFileSync(path.join(SRC, 'pipelines/titelive/activities/parse.ts'), 'utf8'))).toBe(true);
    expect(SQL.test('`SELECT a FROM t WHERE k = $k`')).toBe(true);
    expect(RAW_QUERY.test('await this.warehouse.query<Row>(`…`)')).toBe(true);
    for (const rel of Object.keys(ALLOWED)) expect(checked).toContain(rel);
  });
});

/**
 * NDJSON report files into typed rows (src/kit/activity/csv.ts, `fileBatches`): values typed by the declared
 * columns, a line that is not a JSON object or does not type counted with its place, a field the table does not
 * declare refused by name.
 */
import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { BadRowsError, CsvHeaderError, fileBatches, type ParseStats } from '../../src/kit/activity/csv';
import type { TableSchema } from '../../src/sinks/warehouse';

const table: TableSchema = {
  name: 't',
  columns: [
    { name: 'day', type: 'DATE' },
    { name: 'n', type: 'INT64' },
    { name: 'x', type: 'FLOAT64' },
  ],
};
const stats = (): ParseStats => ({ files: 0, rowsParsed: 0, badRows: 0, badRowSamples: [] });

async function rows(lines: string[], s = stats(), maxBadRows = Infinity) {
  const out = [];
  for await (const b of fileBatches(
    'ndjson',
    table,
    1,
    async () => Readable.from([lines.join('\n')]),
    s,
    2,
    maxBadRows,
  ))
    out.push(...b);
  return out;
}

describe("fileBatches('ndjson')", () => {
  it('breaks lines at LF only: a lone CR is white space inside a record (as JSON and DuckDB read it)', async () => {
    const s = stats();
    expect(await rows(['{"day":"2026-01-01",\r"n":1}', '{"n":2}\r'], s)).toEqual([
      { day: '2026-01-01', n: 1, x: null },
      { day: null, n: 2, x: null },
    ]);
    expect(s).toMatchObject({ rowsParsed: 2, badRows: 0 });
  });

  it('counts a line that is not UTF-8 as bad (no replacement character loaded), across chunk boundaries and CRLF', async () => {
    const bytes = Buffer.concat([
      Buffer.from('{"day":"2026-01-01","n":1}\r\n{"day":"2026-01-02","n":2,"x":"'),
      Buffer.from([0x80]),
      Buffer.from('"}\n{"day":"2026-01-03","n":3}\n{"day":"2026-01-04","n":"4'),
    ]);
    // Cut into 7-byte chunks: lines and a two-byte character (é below) straddle them.
    const tail = Buffer.from('"}\n{"day":"2026-01-05","n":5,"x":"1é"}');
    const all = Buffer.concat([bytes, tail]);
    const chunks = Array.from({ length: Math.ceil(all.length / 7) }, (_, i) => all.subarray(i * 7, i * 7 + 7));
    const s = stats();
    const out = [];
    for await (const b of fileBatches('ndjson', table, 1, async () => Readable.from(chunks), s, 10, 10)) out.push(...b);
    expect(out.map((r) => r.n)).toEqual([1, 3, 4]);
    expect(s).toMatchObject({ rowsParsed: 5, badRows: 2 });
    expect(s.badRowSamples).toEqual(['file 1 line 2: not UTF-8', 'file 1 line 5, column x: not a number']);
  });

  it('types the declared columns, in batches, missing fields as null', async () => {
    const s = stats();
    expect(await rows(['{"day":"2026-01-01","n":"3","x":1.5}', '', '{"day":"2026-01-02","n":4}'], s)).toEqual([
      { day: '2026-01-01', n: 3, x: 1.5 },
      { day: '2026-01-02', n: 4, x: null },
    ]);
    expect(s).toMatchObject({ files: 1, rowsParsed: 2, badRows: 0 });
  });

  it('counts a line that is not a JSON object, or a value that does not type, with its place', async () => {
    const s = stats();
    expect(await rows(['not json', '[1]', '{"day":"01/02/2026"}', '{"day":"2026-01-03","n":1}'], s)).toHaveLength(1);
    expect(s.badRowSamples).toEqual([
      'file 1 line 1: not a JSON object',
      'file 1 line 2: not a JSON object',
      'file 1 line 3, column day: not a date (YYYY-MM-DD)',
    ]);
    await expect(rows(['nope'], stats(), 0)).rejects.toThrow(BadRowsError);
  });

  it('refuses a field the table does not declare, naming it', async () => {
    await expect(rows(['{"day":"2026-01-01","extra":1}'])).rejects.toThrow(
      new CsvHeaderError('report file 1 line 1 has field(s) extra the table does not declare'),
    );
  });

  it('keeps an object or array of a JSON column as its JSON text, and types booleans as the warehouses cast them', async () => {
    const docs: TableSchema = {
      name: 'd',
      columns: [
        { name: 'doc', type: 'JSON' },
        { name: 'ok', type: 'BOOL' },
      ],
    };
    const s = stats();
    const out = [];
    const lines = [
      '{"doc":{"a":[1,2]},"ok":true}',
      '{"doc":[{"b":null}],"ok":"FALSE"}',
      '{"doc":"{bad","ok":false}',
      '{"ok":"yes"}',
    ];
    for await (const b of fileBatches(
      'ndjson',
      docs,
      1,
      async () => Readable.from([lines.join('\n')]),
      s,
      10,
      Infinity,
    ))
      out.push(...b);
    expect(out).toEqual([
      { doc: '{"a":[1,2]}', ok: 'true' },
      { doc: '[{"b":null}]', ok: 'false' },
    ]);
    expect(s.badRowSamples).toEqual(['file 1 line 3, column doc: not JSON', 'file 1 line 4, column ok: not a boolean']);
  });
});

/**
 * The Bucket and Warehouse contracts, written once and run against every implementation (local folder
 * and S3 for buckets; DuckDB and BigQuery for warehouses), so the implementations cannot drift apart.
 * Each test works under its own key prefix / table name, so one server can serve the whole file. The real
 * servers the integration tests run them against start from ./servers (re-exported here).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { parse as parseCsv } from 'csv-parse/sync';
import { DuckDBInstance } from '@duckdb/node-api';
import { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
export { startTestServer, type TestServer } from './servers';
import type { Bucket } from '../../src/sinks/bucket';
import {
  fromArray,
  IncompatibleTableError,
  LoadAbortedError,
  RowsOutsideRangeError,
  schemaDifferences,
  UnknownTableError,
  type Row,
  type TableSchema,
  type Warehouse,
  type WriteMode,
} from '../../src/sinks/warehouse';

const unique = () => randomUUID().replace(/-/g, '').slice(0, 10);

async function readAll(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of stream) chunks.push(Buffer.from(c as Buffer));
  return Buffer.concat(chunks);
}

/** A stream of `chunks` that fails after emitting them (a source dying mid-upload). */
function failingStream(chunks: Buffer[]): Readable {
  return Readable.from(
    (async function* () {
      yield* chunks;
      throw new Error('source failed mid-stream');
    })(),
  );
}

const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');

export interface BucketContract {
  /** Builds the bucket under test (called once, before the tests). */
  make: () => Promise<Bucket>;
  /** The URI the implementation must give for a key. */
  expectedUri: (key: string) => string;
}

export function bucketContract(name: string, c: BucketContract): void {
  describe(`${name}: Bucket contract`, () => {
    let bucket: Bucket;
    let p: string; // a fresh key prefix per test
    beforeAll(async () => {
      bucket = await c.make();
    });
    const fresh = () => (p = `contract-${unique()}/`);

    it('puts a Buffer, a string and a Readable, and reads back the same bytes', async () => {
      fresh();
      const binary = Buffer.from([0, 1, 2, 0xfe, 0xff, 0x80, 10, 13]);
      await bucket.put(`${p}bin`, binary, { contentType: 'application/octet-stream' });
      await bucket.put(`${p}text.json`, '{"é":"ü ✓"}', { contentType: 'application/json' });
      await bucket.put(`${p}stream`, Readable.from([Buffer.from('one,'), Buffer.from('two')]));
      expect(await bucket.get(`${p}bin`)).toEqual(binary);
      expect((await bucket.get(`${p}text.json`)).toString('utf8')).toBe('{"é":"ü ✓"}');
      expect((await bucket.get(`${p}stream`)).toString()).toBe('one,two');
      expect(await readAll(await bucket.getStream(`${p}bin`))).toEqual(binary);
      await bucket.put(`${p}empty`, Buffer.alloc(0));
      expect(await bucket.get(`${p}empty`)).toEqual(Buffer.alloc(0));
    });

    it('tells which keys exist, and fails to read a missing key', async () => {
      fresh();
      await bucket.put(`${p}dir/file.txt`, 'x');
      expect(await bucket.exists(`${p}dir/file.txt`)).toBe(true);
      expect(await bucket.exists(`${p}dir/other.txt`)).toBe(false);
      expect(await bucket.exists(`${p}dir`)).toBe(false); // a "folder" is not an object
      await expect(bucket.get(`${p}missing`)).rejects.toThrow();
      await expect(bucket.getStream(`${p}missing`)).rejects.toThrow();
    });

    it('overwrites an object as a whole', async () => {
      fresh();
      await bucket.put(`${p}k`, 'a much longer first version');
      await bucket.put(`${p}k`, 'v2');
      expect((await bucket.get(`${p}k`)).toString()).toBe('v2');
      expect(await bucket.list(p)).toEqual([{ key: `${p}k`, size: 2, modified: expect.any(Date) }]);
    });

    it('lists the keys under a prefix with their sizes, in byte order, nested keys included', async () => {
      fresh();
      const keys = ['a_b.txt', 'a/c.txt', 'B.txt', 'a.txt', '9.txt', 'a-b.txt', '10.txt', 'a/d/e.txt'];
      for (const [i, k] of keys.entries()) await bucket.put(`${p}${k}`, 'x'.repeat(i + 1));
      await bucket.put(`other-${unique()}/a.txt`, 'not under the prefix');
      const listed = await bucket.list(p);
      expect(listed.map((o) => o.key.slice(p.length))).toEqual([
        '10.txt',
        '9.txt',
        'B.txt',
        'a-b.txt',
        'a.txt',
        'a/c.txt',
        'a/d/e.txt',
        'a_b.txt',
      ]);
      for (const o of listed) expect(o.size).toBe(keys.indexOf(o.key.slice(p.length)) + 1);
      // A prefix is a string prefix, not a folder: `a` matches a.txt, a-b.txt, a/… and a_b.txt.
      expect((await bucket.list(`${p}a`)).length).toBe(5);
      expect((await bucket.list(`${p}a/`)).map((o) => o.key)).toEqual([`${p}a/c.txt`, `${p}a/d/e.txt`]);
      expect(await bucket.list(`${p}nothing-here/`)).toEqual([]);
    });

    it('deletes an object; deleting a missing key is not an error', async () => {
      fresh();
      await bucket.put(`${p}gone`, 'x');
      await bucket.put(`${p}kept`, 'y');
      await bucket.delete(`${p}gone`);
      await bucket.delete(`${p}never-existed`);
      expect(await bucket.exists(`${p}gone`)).toBe(false);
      expect((await bucket.list(p)).map((o) => o.key)).toEqual([`${p}kept`]);
    });

    it('streams a body larger than 10 MB in and out intact', async () => {
      fresh();
      const block = randomBytes(1024 * 1024);
      const chunks = Array.from({ length: 11 }, (_, i) => Buffer.concat([block.subarray(i), block.subarray(0, i)]));
      const whole = Buffer.concat(chunks);
      await bucket.put(`${p}large.bin`, Readable.from(chunks));
      expect(await bucket.list(p)).toEqual([{ key: `${p}large.bin`, size: whole.length, modified: expect.any(Date) }]);
      expect(sha256(await readAll(await bucket.getStream(`${p}large.bin`)))).toBe(sha256(whole));
    });

    it('leaves no object and keeps the previous version when the source stream fails', async () => {
      fresh();
      await bucket.put(`${p}k`, 'previous');
      await expect(bucket.put(`${p}k`, failingStream([Buffer.from('partial')]))).rejects.toThrow(/mid-stream/);
      // Past one multipart part (S3 tests use 5 MiB parts): the multipart upload must be aborted.
      const big = [randomBytes(3 * 1024 * 1024), randomBytes(3 * 1024 * 1024)];
      await expect(bucket.put(`${p}k`, failingStream(big))).rejects.toThrow(/mid-stream/);
      await expect(bucket.put(`${p}new`, failingStream(big))).rejects.toThrow(/mid-stream/);
      expect((await bucket.get(`${p}k`)).toString()).toBe('previous');
      expect(await bucket.exists(`${p}new`)).toBe(false);
      expect((await bucket.list(p)).map((o) => o.key)).toEqual([`${p}k`]);
    });

    it('refuses invalid keys before any I/O', async () => {
      const bad = ['', '/abs', 'a//b', '../up', 'a/../b', 'a/./b', '.', 'back\\slash', 'nul\0byte', 'x'.repeat(1025)];
      for (const key of bad) {
        await expect(bucket.put(key, 'x'), key).rejects.toThrow(/Invalid bucket key/);
        await expect(bucket.get(key), key).rejects.toThrow(/Invalid bucket key/);
        await expect(bucket.getStream(key), key).rejects.toThrow(/Invalid bucket key/);
        await expect(bucket.exists(key), key).rejects.toThrow(/Invalid bucket key/);
        await expect(bucket.delete(key), key).rejects.toThrow(/Invalid bucket key/);
        expect(() => bucket.uri(key), key).toThrow(/Invalid bucket key/);
      }
    });

    it('gives a URI for people and logs', () => {
      expect(bucket.uri('dir/file name.json')).toBe(c.expectedUri('dir/file name.json'));
    });
  });
}

export interface WarehouseContract {
  /** Builds the warehouse under test (called once, before the tests; closed after them). */
  make: () => Promise<Warehouse>;
  /** How the SQL dialect writes a named query parameter: `$name` (DuckDB), `@name` (BigQuery). */
  param: (name: string) => string;
}

/** Every test gets its own table. */
const tableName = (what: string) => `c_${what}_${unique()}`;

const typedSchema = (name: string): TableSchema => ({
  name,
  columns: [
    { name: 'id', type: 'STRING', nullable: false },
    { name: 'n', type: 'INT64' },
    { name: 'x', type: 'FLOAT64' },
    { name: 'ok', type: 'BOOL' },
    { name: 'd', type: 'DATE' },
    { name: 'ts', type: 'TIMESTAMP' },
    { name: 'doc', type: 'JSON' },
  ],
});

const dailySchema = (name: string): TableSchema => ({
  name,
  columns: [
    { name: 'day', type: 'DATE', nullable: false },
    { name: 'channel', type: 'STRING', nullable: false },
    { name: 'views', type: 'INT64' },
  ],
});

const productSchema = (name: string): TableSchema => ({
  name,
  columns: [
    { name: 'sku', type: 'STRING', nullable: false },
    { name: 'title', type: 'STRING' },
    { name: 'price', type: 'FLOAT64' },
  ],
});

const days = ['2024-03-01', '2024-03-02', '2024-03-03', '2024-03-04'];
const dailyRows: Row[] = days.flatMap((day, i) => [
  { day, channel: 'a', views: i + 1 },
  { day, channel: 'b', views: 10 * (i + 1) },
]);

/** Batches that fail after the first one (a source dying in the middle of a load). */
async function* failingBatches(first: Row[]): AsyncGenerator<Row[]> {
  yield first;
  throw new Error('source failed mid-load');
}

/**
 * What the warehouse contracts' tests read and load with, on the warehouse `wh()` returns (made in a
 * `beforeAll`): a table's row count, the daily rows in order, and a load of `rows` in batches of `batchSize`.
 */
function tableTools(wh: () => Warehouse) {
  return {
    count: async (table: string) =>
      Number((await wh().query<{ n: unknown }>(`SELECT count(*) AS n FROM ${table}`))[0].n),
    daily: (table: string) =>
      wh().query<{ day: string; channel: string; views: number }>(
        `SELECT day, channel, views FROM ${table} ORDER BY day, channel, views`,
      ),
    load: (s: TableSchema, rows: Row[], mode: WriteMode, batchSize = 2) =>
      wh().load(s, fromArray(rows, batchSize), mode),
  };
}

export function warehouseContract(name: string, c: WarehouseContract): void {
  describe(`${name}: Warehouse contract`, () => {
    let wh: Warehouse;
    beforeAll(async () => {
      wh = await c.make();
    });
    afterAll(async () => {
      await wh?.close();
    });
    const p = c.param;
    const { count, daily, load } = tableTools(() => wh);

    it('ensureTable creates an empty table from the schema, and is idempotent', async () => {
      const s = typedSchema(tableName('ensure'));
      await wh.ensureTable(s);
      await wh.ensureTable(s);
      expect(await count(s.name)).toBe(0);
      // load() creates a missing table by itself too
      const s2 = dailySchema(tableName('implicit'));
      expect(await load(s2, dailyRows.slice(0, 1), { kind: 'append' })).toEqual({ rowsLoaded: 1 });
      expect(await count(s2.name)).toBe(1);
    });

    it('refuses unsafe identifiers and write modes that name unknown columns', async () => {
      const s = dailySchema(tableName('ids'));
      await expect(wh.ensureTable({ ...s, name: 'x; DROP TABLE y' })).rejects.toThrow(/Invalid table name/);
      await expect(wh.ensureTable({ name: s.name, columns: [{ name: 'a b', type: 'STRING' }] })).rejects.toThrow(
        /Invalid column name/,
      );
      await expect(load(s, dailyRows, { kind: 'merge', keys: [] })).rejects.toThrow(/at least one key/);
      await expect(load(s, dailyRows, { kind: 'merge', keys: ['nope'] })).rejects.toThrow(/not in table/);
      await expect(
        load(s, dailyRows, { kind: 'replaceRange', column: 'nope', from: '2024-01-01', to: '2024-01-02' }),
      ).rejects.toThrow(/not in table/);
    });

    it('append: loads typed values over several batches, NULLs included, and adds rows on every call', async () => {
      const s = typedSchema(tableName('typed'));
      const rows: Row[] = [
        {
          id: 'a',
          n: 1,
          x: 1.5,
          ok: true,
          d: '2024-01-02',
          ts: '2024-01-02T03:04:05.123Z',
          doc: '{"k":[1,2],"s":"é"}',
        },
        { id: 'b', n: -7, x: -0.25, ok: false, d: '1999-12-31', ts: '2024-01-02T05:04:05+02:00', doc: '"text"' },
        { id: 'c', n: '9007199254740993', x: 1e21, ok: null, d: null, ts: '2024-01-02 03:04:05', doc: null },
        { id: 'd' },
      ];
      expect(await load(s, rows, { kind: 'append' })).toEqual({ rowsLoaded: 4 });
      const got = await wh.query<Record<string, unknown>>(`SELECT id, n, x, ok, d, ts, doc FROM ${s.name} ORDER BY id`);
      expect(got.map((r) => ({ ...r, doc: r.doc === null ? null : JSON.parse(r.doc as string) }))).toEqual([
        {
          id: 'a',
          n: 1,
          x: 1.5,
          ok: true,
          d: '2024-01-02',
          ts: '2024-01-02T03:04:05.123Z',
          doc: { k: [1, 2], s: 'é' },
        },
        { id: 'b', n: -7, x: -0.25, ok: false, d: '1999-12-31', ts: '2024-01-02T03:04:05.000Z', doc: 'text' },
        // INT64 beyond 2^53 comes back exact, as a string; a timestamp without offset is UTC
        { id: 'c', n: '9007199254740993', x: 1e21, ok: null, d: null, ts: '2024-01-02T03:04:05.000Z', doc: null },
        { id: 'd', n: null, x: null, ok: null, d: null, ts: null, doc: null },
      ]);
      expect(await load(s, rows, { kind: 'append' })).toEqual({ rowsLoaded: 4 });
      expect(await count(s.name)).toBe(8);
      expect(await load(s, [], { kind: 'append' })).toEqual({ rowsLoaded: 0 });
      expect(await count(s.name)).toBe(8);
    });

    it('replaceRange: replaces exactly the rows of the range; a rerun leaves the same rows', async () => {
      const s = dailySchema(tableName('range'));
      await load(s, dailyRows, { kind: 'append' });
      const reload: Row[] = [
        { day: '2024-03-02', channel: 'a', views: 200 },
        { day: '2024-03-03', channel: 'a', views: 300 },
        { day: '2024-03-03', channel: 'c', views: 301 },
      ];
      const mode: WriteMode = { kind: 'replaceRange', column: 'day', from: '2024-03-02', to: '2024-03-03' };
      const expected = [
        { day: '2024-03-01', channel: 'a', views: 1 },
        { day: '2024-03-01', channel: 'b', views: 10 },
        { day: '2024-03-02', channel: 'a', views: 200 },
        { day: '2024-03-03', channel: 'a', views: 300 },
        { day: '2024-03-03', channel: 'c', views: 301 },
        { day: '2024-03-04', channel: 'a', views: 4 },
        { day: '2024-03-04', channel: 'b', views: 40 },
      ];
      expect(await load(s, reload, mode)).toEqual({ rowsLoaded: 3 });
      expect(await daily(s.name)).toEqual(expected);
      expect(await load(s, reload, mode, 1)).toEqual({ rowsLoaded: 3 });
      expect(await daily(s.name)).toEqual(expected);
      // A range that now has no rows at the source ends up empty.
      const empty: WriteMode = { kind: 'replaceRange', column: 'day', from: '2024-03-04', to: '2024-03-04' };
      expect(await load(s, [], empty)).toEqual({ rowsLoaded: 0 });
      expect(await daily(s.name)).toEqual(expected.slice(0, 5));
    });

    it('merge: upserts on the key, keeping the last staged row of a key loaded twice', async () => {
      const s = productSchema(tableName('merge'));
      const mode: WriteMode = { kind: 'merge', keys: ['sku'] };
      const first: Row[] = [
        { sku: 'A', title: 'apple', price: 1 },
        { sku: 'B', title: 'banana', price: 2 },
        { sku: 'C', title: 'cherry', price: 3 },
      ];
      expect(await load(s, first, mode)).toEqual({ rowsLoaded: 3 });
      const second: Row[] = [
        { sku: 'A', title: 'apple v1', price: 1.1 },
        { sku: 'B', title: 'banana v2', price: null },
        { sku: 'D', title: 'date v1', price: 4 },
        { sku: 'A', title: 'apple v2', price: 1.2 }, // in a later batch: wins over v1
        { sku: 'D', title: 'date v2', price: 4.5 },
      ];
      const expected = [
        { sku: 'A', title: 'apple v2', price: 1.2 },
        { sku: 'B', title: 'banana v2', price: null },
        { sku: 'C', title: 'cherry', price: 3 },
        { sku: 'D', title: 'date v2', price: 4.5 },
      ];
      const products = () => wh.query(`SELECT sku, title, price FROM ${s.name} ORDER BY sku`);
      expect(await load(s, second, mode)).toEqual({ rowsLoaded: 3 }); // distinct keys staged
      expect(await products()).toEqual(expected);
      expect(await load(s, second, mode, 5)).toEqual({ rowsLoaded: 3 });
      expect(await products()).toEqual(expected);
    });

    it('merge: compares composite keys by typed value (the same instant written two ways is one key)', async () => {
      const s: TableSchema = {
        name: tableName('merge_keys'),
        columns: [
          { name: 'channel', type: 'STRING', nullable: false },
          { name: 'hour', type: 'TIMESTAMP', nullable: false },
          { name: 'views', type: 'INT64' },
        ],
      };
      const mode: WriteMode = { kind: 'merge', keys: ['channel', 'hour'] };
      await load(s, [{ channel: 'a', hour: '2024-01-02T03:00:00Z', views: 1 }], mode);
      const rows: Row[] = [
        { channel: 'a', hour: '2024-01-02T03:00:00.000Z', views: 2 },
        { channel: 'b', hour: '2024-01-02T03:00:00Z', views: 20 },
        { channel: 'a', hour: '2024-01-02T05:00:00+02:00', views: 3 },
      ];
      expect(await load(s, rows, mode)).toEqual({ rowsLoaded: 2 });
      expect(await wh.query(`SELECT channel, hour, views FROM ${s.name} ORDER BY channel`)).toEqual([
        { channel: 'a', hour: '2024-01-02T03:00:00.000Z', views: 3 },
        { channel: 'b', hour: '2024-01-02T03:00:00.000Z', views: 20 },
      ]);
    });

    it('a load that fails (source error, bad value) changes nothing', async () => {
      const s = dailySchema(tableName('atomic'));
      await load(s, dailyRows, { kind: 'append' });
      const before = await daily(s.name);
      const range: WriteMode = { kind: 'replaceRange', column: 'day', from: '2024-03-01', to: '2024-03-04' };
      await expect(wh.load(s, failingBatches(dailyRows.slice(0, 2)), range)).rejects.toThrow(/mid-load/);
      await expect(load(s, [{ day: '2024-03-01', channel: 'a', views: 'many' }], range)).rejects.toThrow();
      await expect(load(s, [{ day: 'someday', channel: 'a', views: 1 }], range)).rejects.toThrow();
      await expect(load(s, [...dailyRows, { day: '2024-03-01', channel: null, views: 1 }], range)).rejects.toThrow();
      const merge: WriteMode = { kind: 'merge', keys: ['day', 'channel'] };
      await expect(load(s, [...dailyRows, { day: '2024-02-30', channel: 'z', views: 1 }], merge)).rejects.toThrow();
      await expect(wh.load(s, failingBatches(dailyRows), { kind: 'append' })).rejects.toThrow(/mid-load/);
      expect(await daily(s.name)).toEqual(before);
      const t = typedSchema(tableName('atomic_json'));
      await expect(
        load(
          t,
          [
            { id: 'a', doc: '{"ok":1}' },
            { id: 'b', doc: '{oops' },
          ],
          { kind: 'append' },
        ),
      ).rejects.toThrow();
      expect(await count(t.name)).toBe(0);
    });

    it('query: takes named parameters', async () => {
      const s = dailySchema(tableName('params'));
      await load(s, dailyRows, { kind: 'append' });
      const sql = `SELECT day, views FROM ${s.name} WHERE channel = ${p('channel')} AND views >= ${p('min')} ORDER BY day`;
      expect(await wh.query(sql, { channel: 'b', min: 25 })).toEqual([
        { day: '2024-03-03', views: 30 },
        { day: '2024-03-04', views: 40 },
      ]);
      const injected = await wh.query(`SELECT count(*) AS n FROM ${s.name} WHERE channel = ${p('c')}`, {
        c: "a' OR '1'='1",
      });
      expect(injected).toEqual([{ n: 0 }]);
    });
  });
}

/**
 * What a load may write and how it reads an existing table: describeTable, a replace scoped to the rows a
 * load owns (`where`), rows outside the range refused, a caller's abort honoured. Separate from
 * warehouseContract so an emulator can run it on a fresh server (the BigQuery emulator's memory grows with
 * every table it has created and dropped).
 */
export function warehouseOwnershipContract(name: string, c: WarehouseContract): void {
  describe(`${name}: Warehouse contract (describe, ownership, abort)`, () => {
    let wh: Warehouse;
    beforeAll(async () => {
      wh = await c.make();
    });
    afterAll(async () => {
      await wh?.close();
    });
    const { count, daily, load } = tableTools(() => wh);

    it('describeTable: the columns of an existing table in order, with their types; undefined for none', async () => {
      const s = typedSchema(tableName('describe'));
      expect(await wh.describeTable(s.name)).toBeUndefined();
      await wh.ensureTable(s);
      const cols = await wh.describeTable(s.name);
      expect(cols?.map((x) => x.name)).toEqual(s.columns.map((x) => x.name));
      // DuckDB stores JSON as VARCHAR: schemaDifferences knows they match.
      expect(cols?.filter((x) => x.name !== 'doc').map((x) => x.type)).toEqual(
        s.columns.filter((x) => x.name !== 'doc').map((x) => x.type),
      );
      expect(cols?.find((x) => x.name === 'id')?.nullable).toBe(false);
      expect(schemaDifferences(s, cols!)).toEqual([]);
      const drift: TableSchema = {
        name: s.name,
        columns: [
          { name: 'id', type: 'STRING' },
          { name: 'n', type: 'STRING' },
          { name: 'x', type: 'FLOAT64' },
          { name: 'extra', type: 'INT64' },
        ],
      };
      expect(schemaDifferences(drift, cols!)).toEqual([
        'missing column(s) extra',
        'undeclared column(s) ok, d, ts, doc',
        `column n is ${cols!.find((x) => x.name === 'n')!.nativeType}, declared STRING`,
      ]);
    });

    it('replaceRange with where: replaces only the rows of its own values in the range', async () => {
      const s: TableSchema = {
        name: tableName('range_where'),
        columns: [...dailySchema('x').columns, { name: 'config', type: 'STRING' }],
      };
      const rows = (config: string, views: number) => dailyRows.map((r) => ({ ...r, views, config }));
      await load(s, [...rows('A', 1), ...rows('B', 2)], { kind: 'append' });
      const mode = (config: string): WriteMode => ({
        kind: 'replaceRange',
        column: 'day',
        from: '2024-03-01',
        to: '2024-03-04',
        where: { config },
      });
      expect(await load(s, rows('B', 3).slice(0, 3), mode('B'))).toEqual({ rowsLoaded: 3 });
      const got = await wh.query<{ config: string; n: unknown; v: unknown }>(
        `SELECT config, count(*) AS n, sum(views) AS v FROM ${s.name} GROUP BY config ORDER BY config`,
      );
      expect(got.map((r) => [r.config, Number(r.n), Number(r.v)])).toEqual([
        ['A', 8, 8],
        ['B', 3, 9],
      ]);
      // A row of another config is not this load's to write: refused, nothing replaced.
      await expect(load(s, [...rows('B', 4).slice(0, 1), ...rows('A', 4).slice(0, 1)], mode('B'))).rejects.toThrow(
        RowsOutsideRangeError,
      );
      expect(Number((await wh.query<{ n: unknown }>(`SELECT count(*) AS n FROM ${s.name}`))[0].n)).toBe(11);
    });

    it("replaceRange on a text key (a report window): replaces exactly that key's rows of its own values", async () => {
      const s: TableSchema = {
        name: tableName('range_key'),
        columns: [
          { name: 'video', type: 'STRING' },
          { name: 'views', type: 'INT64' },
          { name: 'config', type: 'STRING' },
          { name: 'win', type: 'STRING' },
        ],
      };
      const rows = (win: string, config: string, views: number) =>
        ['v1', 'v2'].map((video) => ({ video, views, config, win }));
      const w1 = '2026-01-01..2026-01-30';
      const w2 = '2026-01-31..2026-02-14';
      await load(s, [...rows(w1, 'A', 1), ...rows(w2, 'A', 2), ...rows(w1, 'B', 3)], { kind: 'append' });
      const mode: WriteMode = { kind: 'replaceRange', column: 'win', from: w1, to: w1, where: { config: 'A' } };
      expect(await load(s, rows(w1, 'A', 5), mode)).toEqual({ rowsLoaded: 2 });
      expect(await load(s, rows(w1, 'A', 5), mode)).toEqual({ rowsLoaded: 2 }); // a rerun: the same rows
      const got = await wh.query<{ win: string; config: string; n: unknown; v: unknown }>(
        `SELECT win, config, count(*) AS n, sum(views) AS v FROM ${s.name} GROUP BY win, config ORDER BY win, config`,
      );
      expect(got.map((r) => [r.win, r.config, Number(r.n), Number(r.v)])).toEqual([
        [w1, 'A', 2, 10],
        [w1, 'B', 2, 6],
        [w2, 'A', 2, 4],
      ]);
      await expect(load(s, rows(w2, 'A', 9), mode)).rejects.toThrow(RowsOutsideRangeError);
    });

    it('replaceRange: refuses rows outside the range (or without a value) and changes nothing', async () => {
      const s = dailySchema(tableName('range_outside'));
      await load(s, dailyRows, { kind: 'append' });
      const before = await daily(s.name);
      const mode: WriteMode = { kind: 'replaceRange', column: 'day', from: '2024-03-02', to: '2024-03-03' };
      const inside = [{ day: '2024-03-02', channel: 'a', views: 7 }];
      await expect(load(s, [...inside, { day: '2024-03-04', channel: 'z', views: 1 }], mode)).rejects.toThrow(
        /1 row\(s\) loaded into c_range_outside_\w+ lie outside the range being replaced \(day 2024-03-02\.\.2024-03-03\)/,
      );
      await expect(load(s, [...inside, { day: '2024-02-01', channel: 'z', views: 1 }], mode)).rejects.toThrow(
        RowsOutsideRangeError,
      );
      expect(await daily(s.name)).toEqual(before);
    });

    it('a load whose caller gave up (aborted signal) writes nothing', async () => {
      const s = dailySchema(tableName('aborted'));
      await load(s, dailyRows, { kind: 'append' });
      const ac = new AbortController();
      async function* abortingBatches(): AsyncGenerator<Row[]> {
        yield dailyRows.slice(0, 2);
        ac.abort(); // e.g. the activity timed out while its rows were still coming
        yield dailyRows.slice(2);
      }
      const range: WriteMode = { kind: 'replaceRange', column: 'day', from: '2024-03-01', to: '2024-03-04' };
      await expect(wh.load(s, abortingBatches(), range, { signal: ac.signal })).rejects.toThrow(LoadAbortedError);
      await expect(wh.load(s, fromArray(dailyRows), { kind: 'append' }, { signal: ac.signal })).rejects.toThrow(
        /abandoned before writing/,
      );
      expect(await count(s.name)).toBe(8);
    });
  });
}

/**
 * The typed reads (src/sinks/read.ts) every pipeline makes, on one table loaded once: each condition kind on
 * each comparable type, ordering, limits, groups and aggregates, values in the warehouse-neutral shape, and
 * refusals naming the column. No SQL is written here: the same calls must give the same rows everywhere.
 */
export function warehouseReadContract(name: string, c: Pick<WarehouseContract, 'make'>): void {
  describe(`${name}: Warehouse contract (typed reads)`, () => {
    let wh: Warehouse;
    // The typed schema with a group column after its id.
    const typed = typedSchema(tableName('reads'));
    const schema: TableSchema = {
      ...typed,
      columns: [typed.columns[0], { name: 'grp', type: 'STRING' }, ...typed.columns.slice(1)],
    };
    const rows: Row[] = [
      { id: 'a1', grp: 'a', n: 1, x: 0.5, ok: true, d: '2024-01-01', ts: '2024-01-01T10:00:00.000Z', doc: '{"k":1}' },
      { id: 'a2', grp: 'a', n: 2, x: 1.5, ok: false, d: '2024-01-02', ts: '2024-01-02T10:00:00.250Z', doc: null },
      { id: 'b1', grp: 'b', n: 10, x: 2.5, ok: true, d: '2024-02-01', ts: '2024-02-01T00:00:00.000Z', doc: null },
      { id: 'b2', grp: 'b', n: 20, x: null, ok: null, d: '2024-02-02', ts: '2024-02-02T23:59:59.999Z', doc: null },
      { id: "o'3", grp: null, n: null, x: null, ok: null, d: null, ts: null, doc: null },
    ];
    beforeAll(async () => {
      wh = await c.make();
      await wh.load(schema, fromArray(rows), { kind: 'append' });
    });
    afterAll(async () => {
      await wh?.close();
    });
    const ids = async (spec: Parameters<Warehouse['select']>[1]) =>
      (await wh.select<{ id: string }>(schema, { columns: ['id'], orderBy: ['id'], ...spec })).map((r) => r.id);

    it('returns every declared column in the neutral shape (DATE, TIMESTAMP, exact integers, JSON text)', async () => {
      const got = await wh.select(schema, { where: { id: 'a1' } });
      expect(got).toHaveLength(1);
      expect({ ...got[0], doc: JSON.parse(String(got[0].doc)) }).toEqual({
        id: 'a1',
        grp: 'a',
        n: 1,
        x: 0.5,
        ok: true,
        d: '2024-01-01',
        ts: '2024-01-01T10:00:00.000Z',
        doc: { k: 1 },
      });
    });

    it('equality on every comparable type, quotes in values, and IS NULL', async () => {
      expect(await ids({ where: { grp: 'b' } })).toEqual(['b1', 'b2']);
      expect(await ids({ where: { n: 10 } })).toEqual(['b1']);
      expect(await ids({ where: { x: 1.5 } })).toEqual(['a2']);
      expect(await ids({ where: { ok: false } })).toEqual(['a2']);
      expect(await ids({ where: { d: '2024-02-02' } })).toEqual(['b2']);
      expect(await ids({ where: { ts: '2024-01-02T10:00:00.250Z' } })).toEqual(['a2']);
      expect(await ids({ where: { id: "o'3" } })).toEqual(["o'3"]);
      expect(await ids({ where: { grp: null } })).toEqual(["o'3"]);
      expect(await ids({ where: { grp: 'a', ok: true } })).toEqual(['a1']);
    });

    it('ne (NULL included), in (empty matches nothing), prefix and ranges', async () => {
      expect(await ids({ where: { grp: { ne: 'a' } } })).toEqual(['b1', 'b2', "o'3"]);
      expect(await ids({ where: { n: { in: [1, 20, 99] } } })).toEqual(['a1', 'b2']);
      expect(await ids({ where: { id: { in: [] } } })).toEqual([]);
      expect(await ids({ where: { id: { prefix: 'b' } } })).toEqual(['b1', 'b2']);
      expect(await ids({ where: { id: { prefix: "o'" } } })).toEqual(["o'3"]);
      expect(await ids({ where: { d: { gte: '2024-01-02', lte: '2024-02-01' } } })).toEqual(['a2', 'b1']);
      expect(await ids({ where: { ts: { gt: '2024-01-01T10:00:00.000Z', lt: '2024-02-02T23:59:59.999Z' } } })).toEqual([
        'a2',
        'b1',
      ]);
      expect(await ids({ where: { x: { lt: 2 } } })).toEqual(['a1', 'a2']);
    });

    it('orders (descending too) and limits', async () => {
      expect(await ids({ orderBy: [{ column: 'n', desc: true }, 'id'], where: { n: { gte: 0 } } })).toEqual([
        'b2',
        'b1',
        'a2',
        'a1',
      ]);
      expect(await ids({ orderBy: ['ts', 'id'], where: { ts: { gte: '2000-01-01T00:00:00Z' } }, limit: 2 })).toEqual([
        'a1',
        'a2',
      ]);
      expect(await ids({ limit: 0 })).toEqual([]);
    });

    it('counts, and aggregates per group or over every row', async () => {
      expect(await wh.count(schema)).toBe(5);
      expect(await wh.count(schema, { grp: 'a' })).toBe(2);
      expect(await wh.count(schema, { id: { in: [] } })).toBe(0);
      expect(
        await wh.select(schema, {
          groupBy: ['grp'],
          aggregates: { rows: { count: true }, total: { sum: 'n' }, last: { max: 'ts' }, first: { min: 'd' } },
          where: { grp: { ne: 'none' } },
          orderBy: [{ column: 'total', desc: true }],
        }),
      ).toEqual([
        { grp: 'b', rows: 2, total: 30, last: '2024-02-02T23:59:59.999Z', first: '2024-02-01' },
        { grp: 'a', rows: 2, total: 3, last: '2024-01-02T10:00:00.250Z', first: '2024-01-01' },
        { grp: null, rows: 1, total: null, last: null, first: null },
      ]);
      expect(await wh.select(schema, { aggregates: { top: { max: 'n' } } })).toEqual([{ top: 20 }]);
    });

    it('refuses what the table does not declare, naming the column, before asking the warehouse', async () => {
      await expect(wh.select(schema, { where: { nope: 1 } })).rejects.toThrow(/"nope" is not declared/);
      await expect(wh.select(schema, { columns: ['id', 'nope'] })).rejects.toThrow(/"nope" is not declared/);
      await expect(wh.select(schema, { orderBy: ['nope'] })).rejects.toThrow(/"nope" is not declared/);
      await expect(wh.select(schema, { where: { doc: '{}' } })).rejects.toThrow(/JSON column "doc"/);
      await expect(wh.select(schema, { where: { n: { prefix: '1' } } })).rejects.toThrow(/prefix needs a STRING/);
      await expect(wh.select(schema, { groupBy: ['grp'], columns: ['id'] })).rejects.toThrow(
        /"id" is selected but not grouped/,
      );
    });
  });
}

/**
 * What a table's declaration does: a load without a mode follows its write disposition, and an existing table
 * moves to a new declared schema (nullable columns added; anything else refused). On a fresh emulator of its
 * own in the BigQuery tests (its memory grows with every table).
 */
export function warehouseDeclarationContract(
  name: string,
  c: Pick<WarehouseContract, 'make'> & {
    /** False where the server cannot add a column (the BigQuery emulator: see addColumnsSql); refusals still run. */
    addsColumns?: boolean;
  },
): void {
  describe(`${name}: Warehouse contract (declared dispositions, schema evolution)`, () => {
    let wh: Warehouse;
    beforeAll(async () => {
      wh = await c.make();
    });
    afterAll(async () => {
      await wh?.close();
    });

    const v1 = (): TableSchema => ({
      ...productSchema(tableName('evolve')),
      primaryKey: ['sku'],
      write: { kind: 'merge' },
    });
    const withStock = (s: TableSchema): TableSchema => ({
      ...s,
      columns: [...s.columns, { name: 'stock', type: 'INT64' }],
    });

    it.skipIf(c.addsColumns === false)(
      'schema evolution: a new nullable column is added, old rows read NULL',
      async () => {
        const s1 = v1();
        await wh.load(s1, fromArray([{ sku: 'A', title: 'a', price: 1 }]));
        const v2 = withStock(s1);
        await wh.load(v2, fromArray([{ sku: 'B', title: 'b', price: 2, stock: 5 }]));
        expect(await wh.select(v2, { orderBy: ['sku'] })).toEqual([
          { sku: 'A', title: 'a', price: 1, stock: null },
          { sku: 'B', title: 'b', price: 2, stock: 5 },
        ]);
        expect((await wh.describeTable(s1.name))!.map((c) => c.name)).toEqual(['sku', 'title', 'price', 'stock']);
      },
    );

    it('schema evolution: a type change, a dropped column or a new NOT NULL column is refused, changing nothing', async () => {
      const v2 = v1();
      await wh.load(
        v2,
        fromArray([
          { sku: 'A', title: 'a', price: 1 },
          { sku: 'B', title: 'b', price: 2 },
        ]),
      );
      const refused = async (s: TableSchema, what: RegExp) => {
        const err = await wh.load(s, fromArray([{ sku: 'C' }])).catch((e: unknown) => e);
        expect(err).toBeInstanceOf(IncompatibleTableError);
        expect(err).toMatchObject({ nonRetryable: true, type: 'IncompatibleTable' });
        expect(String((err as Error).message)).toMatch(new RegExp(`table ${v2.name} does not match`));
        expect(String((err as Error).message)).toMatch(what);
      };
      const retyped = v2.columns.map((c) => (c.name === 'price' ? { ...c, type: 'STRING' as const } : c));
      await refused({ ...v2, columns: retyped }, /column price is \w+, declared STRING/);
      await refused({ ...v2, columns: v2.columns.filter((c) => c.name !== 'title') }, /undeclared column\(s\) title/);
      await refused(
        { ...v2, columns: [...v2.columns, { name: 'must', type: 'STRING', nullable: false }] },
        /NOT NULL column\(s\) must/,
      );
      expect(await wh.count(v2)).toBe(2); // nothing changed by the refused loads
      expect((await wh.describeTable(v2.name))!.map((c) => c.name)).toEqual(['sku', 'title', 'price']);
    });

    it('dropTable drops a table (listTables no longer names it), and a missing one is no error', async () => {
      const s = dailySchema(tableName('drop'));
      await wh.load(s, fromArray(dailyRows.slice(0, 1)), { kind: 'append' });
      expect(await wh.describeTable(s.name)).toBeDefined();
      expect(await wh.listTables()).toContain(s.name);
      await wh.dropTable(s.name);
      expect(await wh.describeTable(s.name)).toBeUndefined();
      expect(await wh.listTables()).not.toContain(s.name);
      await wh.dropTable(s.name);
      await expect(wh.dropTable('x; DROP TABLE y')).rejects.toThrow(/Invalid table name/);
    });

    it("a load without a mode uses the table's declared disposition: merge on its primary key", async () => {
      const s: TableSchema = { ...productSchema(tableName('declared')), primaryKey: ['sku'], write: { kind: 'merge' } };
      await wh.load(s, fromArray([{ sku: 'A', title: 'a1', price: 1 }]));
      await wh.load(
        s,
        fromArray([
          { sku: 'A', title: 'a2', price: 2 },
          { sku: 'B', title: 'b', price: 3 },
        ]),
      );
      expect(await wh.select(s, { orderBy: ['sku'] })).toEqual([
        { sku: 'A', title: 'a2', price: 2 },
        { sku: 'B', title: 'b', price: 3 },
      ]);
      // An explicit mode overrides the declaration (here: append).
      await wh.load(s, fromArray([{ sku: 'A', title: 'a3', price: 4 }]), { kind: 'append' });
      expect(await wh.count(s, { sku: 'A' })).toBe(2);
      // A table that replaces ranges needs its range from the call.
      const r: TableSchema = { ...dailySchema(s.name), write: { kind: 'replaceRange', column: 'day' } };
      await expect(wh.load(r, fromArray(dailyRows))).rejects.toThrow(/replaces a range of day: the load must give it/);
    });
  });
}

/**
 * `exportTable` (`longhaul export`): every format holds every row and value as query results give them, and
 * Parquet keeps the declared types; an unknown table names those the warehouse holds and writes nothing.
 */
export function warehouseExportContract(name: string, c: Pick<WarehouseContract, 'make'>): void {
  describe(`${name}: Warehouse contract (export)`, () => {
    let wh: Warehouse;
    let dir: string;
    const schema = typedSchema(tableName('export'));
    const rows: Row[] = [
      { id: 'a1', n: 1, x: 0.5, ok: true, d: '2024-01-01', ts: '2024-01-01T10:00:00.123Z', doc: '{"k":[1,2]}' },
      { id: 'comma, "quote"\nline é', n: -7, x: null, ok: false, d: null, ts: null, doc: null },
      {
        id: 'z3',
        n: 9_007_199_254_740_000,
        x: 2.25,
        ok: null,
        d: '2026-12-31',
        ts: '2026-12-31T23:59:59.999Z',
        doc: null,
      },
    ];
    // Query results' shape: JSON as its text (compared parsed), the rest as given.
    const neutral = (r: Record<string, unknown>): Record<string, unknown> => ({
      ...r,
      doc: r.doc === null ? null : (JSON.parse(String(r.doc)) as unknown),
    });
    const byId = (a: Record<string, unknown>, b: Record<string, unknown>) => String(a.id).localeCompare(String(b.id));
    const want = rows.map(neutral).sort(byId);
    beforeAll(async () => {
      wh = await c.make();
      dir = fs.mkdtempSync(path.join(os.tmpdir(), 'longhaul-export-contract-'));
      await wh.load(schema, fromArray(rows), { kind: 'append' });
    });
    afterAll(async () => {
      await wh?.close();
      fs.rmSync(dir, { recursive: true, force: true });
    });

    it('ndjson and json: every row, every column, values as query results give them', async () => {
      for (const format of ['ndjson', 'json'] as const) {
        const file = path.join(dir, `t.${format}`);
        expect(await wh.exportTable(schema.name, format, file)).toEqual({ rows: 3 });
        const text = fs.readFileSync(file, 'utf8');
        const got = (
          format === 'json'
            ? (JSON.parse(text) as Record<string, unknown>[])
            : text
                .split('\n')
                .filter(Boolean)
                .map((l) => JSON.parse(l) as Record<string, unknown>)
        ).map(neutral);
        expect(got.sort(byId), format).toEqual(want);
        expect(Object.keys(got[0])).toEqual(schema.columns.map((x) => x.name));
      }
    });

    it('csv: a header, then the values as text (quoted where needed, NULL empty)', async () => {
      const file = path.join(dir, 't.csv');
      expect(await wh.exportTable(schema.name, 'csv', file)).toEqual({ rows: 3 });
      const [header, ...body] = parseCsv(fs.readFileSync(file, 'utf8')) as string[][];
      expect(header).toEqual(schema.columns.map((x) => x.name));
      const got = body.map((r) => Object.fromEntries(header.map((h, i) => [h, r[i]]))).sort(byId);
      const text = (v: unknown) => (v === null ? '' : String(v));
      expect(got.map((r) => ({ ...r, doc: r.doc ? (JSON.parse(r.doc) as unknown) : null }))).toEqual(
        want.map((r) => ({
          ...Object.fromEntries(Object.entries(r).map(([k, v]) => [k, k === 'doc' ? v : text(v)])),
        })),
      );
    });

    it('parquet: the declared types, and the same values', async () => {
      const file = path.join(dir, 't.parquet');
      expect(await wh.exportTable(schema.name, 'parquet', file)).toEqual({ rows: 3 });
      const db = await DuckDBInstance.create(':memory:');
      const conn = await db.connect();
      try {
        const src = `read_parquet('${file.replace(/'/g, "''")}')`;
        const types = (await conn.runAndReadAll(`DESCRIBE SELECT * FROM ${src}`)).getRowObjectsJS();
        expect(types.map((t) => [t.column_name, t.column_type])).toEqual([
          ['id', 'VARCHAR'],
          ['n', 'BIGINT'],
          ['x', 'DOUBLE'],
          ['ok', 'BOOLEAN'],
          ['d', 'DATE'],
          ['ts', 'TIMESTAMP'],
          ['doc', 'VARCHAR'],
        ]);
        const got = (
          await conn.runAndReadAll(
            `SELECT id, n::VARCHAR AS n, x, ok, d::VARCHAR AS d, ` +
              `strftime(ts, '%Y-%m-%dT%H:%M:%S.%gZ') AS ts, doc FROM ${src} ORDER BY id`,
          )
        ).getRowObjectsJS();
        expect(
          got
            .map((r) => ({ ...r, n: r.n === null ? null : Number(r.n) }))
            .map(neutral)
            .sort(byId),
        ).toEqual(want);
      } finally {
        conn.closeSync();
        db.closeSync();
      }
    });

    it('an unknown table: the error names the tables it holds, and no file is written', async () => {
      const file = path.join(dir, 'none.csv');
      const err = await wh.exportTable(`nosuch_${unique()}`, 'csv', file).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(UnknownTableError);
      expect(String((err as Error).message)).toContain(schema.name);
      expect(fs.existsSync(file)).toBe(false);
    });
  });
}

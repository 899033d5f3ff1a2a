/** The Warehouse contract on DuckDB (a file in a temporary folder), plus what is specific to the file. */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { DuckDbWarehouse } from '../../src/sinks/duckdb';
import { fromArray, type Row } from '../../src/sinks/warehouse';
import {
  warehouseContract,
  warehouseOwnershipContract,
  warehouseReadContract,
  warehouseDeclarationContract,
  warehouseExportContract,
} from '../helpers/sink-contracts';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'longhaul-duckdb-'));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

warehouseContract('DuckDbWarehouse', {
  make: async () => new DuckDbWarehouse({ path: path.join(dir, 'contract.duckdb') }),
  param: (name) => `$${name}`,
});
warehouseOwnershipContract('DuckDbWarehouse', {
  make: async () => new DuckDbWarehouse({ path: path.join(dir, 'contract.duckdb') }),
  param: (name) => `$${name}`,
});
warehouseReadContract('DuckDbWarehouse', {
  make: async () => new DuckDbWarehouse({ path: path.join(dir, 'contract.duckdb') }),
});
warehouseExportContract('DuckDbWarehouse', {
  make: async () => new DuckDbWarehouse({ path: path.join(dir, 'contract.duckdb') }),
});
warehouseDeclarationContract('DuckDbWarehouse', {
  make: async () => new DuckDbWarehouse({ path: path.join(dir, 'contract.duckdb') }),
});

describe('DuckDbWarehouse file', () => {
  it('releases the file between operations, so a second instance (another process) can use it', async () => {
    const file = path.join(dir, 'shared.duckdb');
    const a = new DuckDbWarehouse({ path: file, lockTimeoutMs: 5_000 });
    const b = new DuckDbWarehouse({ path: file, lockTimeoutMs: 5_000 });
    const s = { name: 'shared', columns: [{ name: 'k', type: 'STRING' as const }] };
    await a.load(s, fromArray([{ k: 'from a' }]), { kind: 'append' });
    await b.load(s, fromArray([{ k: 'from b' }]), { kind: 'append' });
    expect(await a.query('SELECT k FROM shared ORDER BY k')).toEqual([{ k: 'from a' }, { k: 'from b' }]);
    await Promise.all([a.close(), b.close()]);
  });

  it('serializes the operations of one instance', async () => {
    const wh = new DuckDbWarehouse({ path: path.join(dir, 'serial.duckdb') });
    const s = { name: 'serial', columns: [{ name: 'i', type: 'INT64' as const }] };
    await Promise.all(
      Array.from({ length: 10 }, (_, i) => wh.load(s, fromArray([{ i }]), { kind: 'merge', keys: ['i'] })),
    );
    expect(await wh.query('SELECT count(*) AS n, sum(i) AS s FROM serial')).toEqual([{ n: 10, s: 45 }]);
    await wh.close();
  });

  it('does not hold its queue while a load is still consuming the caller’s batches', async () => {
    const wh = new DuckDbWarehouse({ path: path.join(dir, 'queue.duckdb') });
    const s = { name: 'slow', columns: [{ name: 'i', type: 'INT64' as const }] };
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    async function* slowDownload(): AsyncGenerator<{ i: number }[]> {
      yield [{ i: 1 }];
      await gate; // a download still going
      yield [{ i: 2 }];
    }
    const loading = wh.load(s, slowDownload(), { kind: 'append' });
    // Another activity of the same worker (e.g. a short query) must not wait behind the download.
    const other = wh.query('SELECT 42 AS n');
    const first = await Promise.race([
      other.then(() => 'query'),
      new Promise((r) => setTimeout(() => r('still waiting'), 3000)),
    ]);
    release();
    expect(first).toBe('query');
    expect(await loading).toEqual({ rowsLoaded: 2 });
    expect(await wh.query('SELECT i FROM slow ORDER BY i')).toEqual([{ i: 1 }, { i: 2 }]);
    await wh.close();
  });

  it('merges wide rows within a small memory limit: the dedupe does not hold whole rows', async () => {
    // 120,000 rows of 20 text columns (~100 MB of text) merged at 128MB: the dedupe was a window over whole
    // rows, which ran out of memory here (and at a worker's 256MB on 600,000 YouTube videos).
    const wh = new DuckDbWarehouse({ path: path.join(dir, 'wide.duckdb'), memoryLimit: '128MB', threads: 2 });
    const names = Array.from({ length: 20 }, (_, j) => `c${j}`);
    const s = {
      name: 'wide',
      columns: [{ name: 'id', type: 'INT64' as const }, ...names.map((name) => ({ name, type: 'STRING' as const }))],
      primaryKey: ['id'],
    };
    const pad = 'x'.repeat(40);
    async function* rows(): AsyncGenerator<Row[]> {
      for (let b = 0; b < 12; b++)
        yield Array.from({ length: 10_000 }, (_, i) => {
          const n = b * 10_000 + i;
          // The last batch repeats the first 10,000 ids: the later row wins.
          const id = b === 11 ? i : n;
          return Object.fromEntries([['id', id], ...names.map((c) => [c, `${c}-${n}-${pad}`])]) as Row;
        });
    }
    expect(await wh.load(s, rows(), { kind: 'merge', keys: ['id'] })).toEqual({ rowsLoaded: 110_000 });
    expect(await wh.query('SELECT count(*) AS n, count(DISTINCT id) AS ids FROM wide')).toEqual([
      { n: 110_000, ids: 110_000 },
    ]);
    expect(await wh.query('SELECT c3 FROM wide WHERE id IN (0, 10000) ORDER BY id')).toEqual([
      { c3: `c3-110000-${pad}` },
      { c3: `c3-10000-${pad}` },
    ]);
    await wh.close();
  }, 60_000);
});

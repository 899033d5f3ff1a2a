/**
 * `longhaul export` as a user runs it (a child process on the embedded defaults): a table into the bucket at a
 * chosen key, and to standard output; the formats' contents are the warehouses' contract
 * (test/helpers/sink-contracts.ts, warehouseExportContract).
 */
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { DuckDbWarehouse } from '../../src/sinks/duckdb';
import { fromArray, type TableSchema } from '../../src/sinks/warehouse';
import { longhaul } from '../helpers/bad-input';
import { tmpDir } from '../helpers/temporal';

describe('longhaul export', () => {
  it('writes a table to a bucket key, and to standard output', async () => {
    const dir = tmpDir('longhaul-export-');
    const schema: TableSchema = {
      name: 'songs',
      columns: [
        { name: 'video_id', type: 'STRING' },
        { name: 'views', type: 'INT64' },
      ],
    };
    const wh = new DuckDbWarehouse({ path: path.join(dir, 'warehouse.duckdb') });
    await wh.load(
      schema,
      fromArray([
        { video_id: 'a', views: 1 },
        { video_id: 'b', views: null },
      ]),
      { kind: 'append' },
    );
    await wh.close();

    const toBucket = await longhaul(['export', 'songs', '--format', 'ndjson', '--to', 'exports/songs.ndjson'], {
      LONGHAUL_DATA_DIR: dir,
    });
    expect(toBucket.code, toBucket.stderr).toBe(0);
    expect(toBucket.stdout).toMatch(
      /Exported 2 rows of songs as ndjson \(\d+ bytes\) to file:\/\/.*exports\/songs\.ndjson/,
    );
    const lines = fs
      .readFileSync(path.join(dir, 'bucket', 'exports', 'songs.ndjson'), 'utf8')
      .trim()
      .split('\n');
    expect(
      lines.map((l) => JSON.parse(l) as unknown).sort((a, b) => JSON.stringify(a).localeCompare(JSON.stringify(b))),
    ).toEqual([
      { video_id: 'a', views: 1 },
      { video_id: 'b', views: null },
    ]);

    const toStdout = await longhaul(['export', 'songs', '--format', 'csv'], { LONGHAUL_DATA_DIR: dir });
    expect(toStdout.code, toStdout.stderr).toBe(0);
    expect(toStdout.stdout.split('\n').filter(Boolean).sort()).toEqual(['a,1', 'b,', 'video_id,views']);
    expect(toStdout.stderr).toMatch(/Exported 2 rows of songs as csv \(\d+ bytes\) to stdout/);
  });
});

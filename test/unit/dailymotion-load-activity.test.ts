/**
 * The loadReport activity against the sandbox and a real DuckDB file, in a mock activity context: it
 * heartbeats on a timer while the warehouse holds it (queued, committing), and an attempt cancelled or timed
 * out meanwhile writes nothing.
 */
import path from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { MockActivityEnvironment } from '@temporalio/testing';
import { createDailymotionActivities, type LoadInput } from '../../src/pipelines/dailymotion/activities/report';
import { parseConfig } from '../../src/config';
import { DuckDbWarehouse } from '../../src/sinks/duckdb';
import { LocalBucket } from '../../src/sinks/local-bucket';
import type { Row, Warehouse } from '../../src/sinks/warehouse';
import { sandboxClient, startDailymotionSandbox } from '../helpers/dailymotion';
import { tmpDir } from '../helpers/temporal';

const points = vi.hoisted(() => ({ reached: [] as { name: string; committed: boolean }[], committed: false }));
vi.mock('../../src/kit/activity/chaos-points', () => ({
  chaosPoint: (name: string) => points.reached.push({ name, committed: points.committed }),
}));

const stops: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const stop of stops.splice(0)) await stop();
});

/** A finished sandbox report and the input to load it. */
async function finishedReport(table: string): Promise<{ env: Record<string, string>; input: LoadInput }> {
  const { sandbox, url, env } = await startDailymotionSandbox({ generationMs: 50 });
  stops.push(() => sandbox.stop());
  const window = { start: '2026-06-01', end: '2026-06-03' };
  const ask = { metrics: ['VIEWS'], dimensions: ['DAY', 'VIDEO_ID'] };
  const client = sandboxClient(url);
  const token = await client.askReport({ ...ask, startDate: window.start, endDate: window.end } as never);
  for (let i = 0; (await client.getReport(token)).status !== 'FINISHED'; i++) {
    if (i > 100) throw new Error('sandbox report did not finish');
    await new Promise((r) => setTimeout(r, 50));
  }
  return { env, input: { reportToken: token, ...ask, window, table, writeMode: 'replace' } };
}

/** DuckDB whose load() waits for `gate` before it starts (e.g. queued behind another worker's load). */
function heldWarehouse(file: string, gate: Promise<void>): { wh: Warehouse; started: Promise<void> } {
  const inner = new DuckDbWarehouse({ path: file });
  let start!: () => void;
  const started = new Promise<void>((r) => (start = r));
  const wh: Warehouse = Object.assign(Object.create(inner) as DuckDbWarehouse, {
    async load(...args: Parameters<Warehouse['load']>) {
      start();
      await gate;
      const result = await inner.load(...args);
      points.committed = true;
      return result;
    },
    // The native load of the landed files (what loadReport uses on DuckDB), held the same way.
    async loadCsv(...args: Parameters<NonNullable<Warehouse['loadCsv']>>) {
      start();
      await gate;
      const result = await inner.loadCsv(...args);
      points.committed = true;
      return result;
    },
  });
  stops.push(() => inner.close());
  return { wh, started };
}

describe('loadReport activity', () => {
  it('heartbeats on a timer while the warehouse holds it, not only per batch', async () => {
    const { env, input } = await finishedReport('dm_hb');
    let release!: () => void;
    const { wh, started } = heldWarehouse(path.join(tmpDir(), 'w.duckdb'), new Promise((r) => (release = r)));
    const acts = createDailymotionActivities(
      { config: parseConfig(env), warehouse: wh, bucket: new LocalBucket(tmpDir()) },
      { heartbeatMs: 50 },
    );
    const mock = new MockActivityEnvironment();
    let beats = 0;
    mock.on('heartbeat', () => beats++);
    const loading = mock.run(acts.loadReport, input);
    await started;
    const before = beats;
    await new Promise((r) => setTimeout(r, 400)); // the warehouse reads no batch meanwhile
    expect(beats - before).toBeGreaterThanOrEqual(3);
    points.committed = false;
    points.reached.length = 0;
    release();
    const result = (await loading) as Awaited<ReturnType<typeof acts.loadReport>>;
    expect(result.rowsLoaded).toBeGreaterThan(0);
    expect(result.maxBadRows).toBe(0);
    // The chaos harness's kill points: once every file has landed (the files are landed and read by the
    // warehouse's load, so after it started), before anything is committed; and right after the warehouse
    // committed, before the activity returns.
    expect(points.reached).toEqual([
      { name: 'dailymotion.load.after-landing', committed: false },
      { name: 'dailymotion.load.after-commit', committed: true },
    ]);
  });

  it('writes nothing when the attempt is cancelled (or timed out) before the warehouse commits', async () => {
    const { env, input } = await finishedReport('dm_cancel');
    const file = path.join(tmpDir(), 'w.duckdb');
    let release!: () => void;
    const { wh, started } = heldWarehouse(file, new Promise((r) => (release = r)));
    const acts = createDailymotionActivities(
      { config: parseConfig(env), warehouse: wh, bucket: new LocalBucket(tmpDir()) },
      { heartbeatMs: 50 },
    );
    const mock = new MockActivityEnvironment();
    const loading = mock.run(acts.loadReport, input).then(
      () => 'committed',
      (e: Error) => e.message,
    );
    await started;
    mock.cancel('TIMED_OUT'); // the server gave up on this attempt; a retry may be loading the window
    release();
    expect(await loading).toMatch(/abandoned before writing/);
    const check = new DuckDbWarehouse({ path: file });
    stops.push(() => check.close());
    const rows = await check.query<Row>(
      "SELECT count(*) AS n FROM information_schema.tables WHERE table_name = 'dm_cancel'",
    );
    const n = Number(rows[0].n);
    if (n > 0) expect(await check.query('SELECT count(*) AS n FROM dm_cancel')).toEqual([{ n: 0 }]);
  });
});

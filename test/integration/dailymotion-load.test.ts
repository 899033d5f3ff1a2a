/**
 * dailymotion-report load correctness on the dev server against the sandbox: two report configurations
 * sharing a table never delete each other's rows; a table with other columns (or a column of another type)
 * is refused with a message naming it and the way out; numbers the client cannot type ("1,234") fail the
 * window before anything is replaced, unless a tolerance is set — then `longhaul run --wait` exits 1 and
 * lists the bad rows; windows reload from their landed files without the API (`fromLanded`), and only
 * LANDED_KEEP landings per window stay.
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WorkflowFailedError } from '@temporalio/client';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { DailymotionReportInput } from '../../src/pipelines/dailymotion/definition';
import type { DailymotionSandbox } from '../../src/pipelines/dailymotion/sandbox';
import { reportTableSchema } from '../../src/pipelines/dailymotion/shared';
import { longhaul } from '../helpers/bad-input';
import { expectedRowKeys, runReport, startDailymotionSandbox, warehouseRowKeys } from '../helpers/dailymotion';
import { testDeps, tmpDir, uniqueQueue, useTemporalServer, withWorker } from '../helpers/temporal';

const COLUMNS = ['day', 'video_id', 'views', 'time_watched_seconds'];
const input = (table: string, extra: Partial<DailymotionReportInput> = {}): DailymotionReportInput => ({
  metrics: ['VIEWS', 'TIME_WATCHED_SECONDS'],
  dimensions: ['DAY', 'VIDEO_ID'],
  startDate: '2026-06-01',
  endDate: '2026-06-10',
  windowDays: 10,
  table,
  poll: { initialDelay: '200ms', factor: 1.5, maxDelay: '1s' },
  ...extra,
});

/** The innermost cause of a failed run (what the user reads). */
function rootMessage(err: unknown): string {
  let e = err as Error;
  while (e.cause instanceof Error) e = e.cause;
  return e.message;
}

describe('dailymotion-report loads (dev server)', () => {
  let env: TestWorkflowEnvironment;
  let sandbox: DailymotionSandbox;
  let dmEnv: Record<string, string>;
  useTemporalServer('dev', (e) => (env = e));
  beforeAll(async () => {
    ({ sandbox, env: dmEnv } = await startDailymotionSandbox({ generationMs: 300, rowsPerFile: 40 }));
  });
  afterAll(() => sandbox?.stop());

  const deps = () => testDeps({ ...dmEnv, DM_ACCOUNT: uniqueQueue('acct') });
  const run = (taskQueue: string, i: DailymotionReportInput) => runReport(env, taskQueue, uniqueQueue('dm-load'), i);
  const failure = (taskQueue: string, i: DailymotionReportInput) =>
    run(taskQueue, i).then(
      () => 'completed',
      (err: unknown) => {
        expect(err).toBeInstanceOf(WorkflowFailedError);
        return rootMessage(err);
      },
    );
  const rowsOf = (i: DailymotionReportInput) =>
    expectedRowKeys(sandbox, {
      metrics: i.metrics,
      dimensions: i.dimensions,
      product: i.product,
      filters: i.filters,
      startDate: i.startDate,
      endDate: i.endDate,
    } as never);

  it('two report configurations sharing a table keep each other’s rows; a table with other columns is refused', async () => {
    const d = deps();
    const all = input('dm_shared');
    const news = input('dm_shared', { filters: { channelSlug: 'longhaul-news' } });
    const viewsOnly = input('dm_shared', { metrics: ['VIEWS'] });
    const both = [...rowsOf(all), ...rowsOf(news)].sort();
    const outcome = await withWorker(env, d, async (q) => {
      const a = await run(q, all);
      const b = await run(q, news);
      await run(q, all); // a rerun replaces its own rows only
      return { a, b, refused: await failure(q, viewsOnly) };
    });
    expect(outcome.a.rowsLoaded).toBe(rowsOf(all).length);
    expect(outcome.b.rowsLoaded).toBe(rowsOf(news).length);
    expect(outcome.b.rowsLoaded).toBeGreaterThan(0);
    expect(await warehouseRowKeys(d.warehouse, 'dm_shared', COLUMNS)).toEqual(both);
    expect(outcome.refused).toMatch(
      /window\(s\) failed: 2026-06-01\.\.2026-06-10: table dm_shared does not have this report's columns \(undeclared column\(s\) time_watched_seconds\): nothing was loaded\. .*--table <name>/,
    );
    const nulls = await d.warehouse.query<{ n: unknown }>(
      'SELECT count(*) AS n FROM dm_shared WHERE time_watched_seconds IS NULL',
    );
    expect(Number(nulls[0].n)).toBe(0);
    const configs = await d.warehouse.query<{ n: unknown }>('SELECT count(DISTINCT report_config) AS n FROM dm_shared');
    expect(Number(configs[0].n)).toBe(2);
  });

  it('refuses a table whose column has another type (type drift), naming the column', async () => {
    const d = deps();
    const schema = reportTableSchema('dm_drift', ['DAY', 'VIDEO_ID'], ['VIEWS', 'TIME_WATCHED_SECONDS']);
    await d.warehouse.ensureTable({
      ...schema,
      columns: schema.columns.map((c) => (c.name === 'views' ? { ...c, type: 'STRING' as const } : c)),
    });
    const refused = await withWorker(env, d, (q) => failure(q, input('dm_drift')));
    expect(refused).toMatch(
      /window\(s\) failed: 2026-06-01\.\.2026-06-10: table dm_drift does not have this report's columns \(column views is VARCHAR, declared INT64\)/,
    );
    expect(refused).toMatch(/--table/);
    expect(await d.warehouse.query('SELECT * FROM dm_drift')).toEqual([]);
  });

  it('numbers with thousands separators fail the window before anything is replaced, unless tolerated (then --wait exits 1)', async () => {
    const d = deps();
    const i = input('dm_thousands');
    const q = uniqueQueue('dm-thousands');
    const dir = tmpDir();
    const file = path.join(dir, 'input.json');
    const cli = (extra: string[]) =>
      longhaul(['run', 'dailymotion-report', '--input', file, '--wait', '--id', uniqueQueue('dm-cli'), ...extra], {
        TEMPORAL_ADDRESS: env.address,
        LONGHAUL_TASK_QUEUE: q,
        LONGHAUL_DATA_DIR: dir,
      });
    fs.writeFileSync(file, JSON.stringify(i));
    try {
      await withWorker(
        env,
        d,
        async () => {
          const clean = await run(q, i);
          expect(clean.badRows).toBe(0);
          const before = await warehouseRowKeys(d.warehouse, 'dm_thousands', COLUMNS);
          expect(before).toEqual(rowsOf(i));
          // Upstream starts writing "1,234": no row may be typed as something else, none replaced.
          sandbox.configure({ thousandsSeparator: true });
          const message = await failure(q, i);
          expect(message).toMatch(
            /window\(s\) failed: 2026-06-01\.\.2026-06-10: report file \d+ line \d+, column (views|time_watched_seconds): not an integer \(1 bad row, over the tolerance of 0: maxBadRows\)$/,
          );
          expect(await warehouseRowKeys(d.warehouse, 'dm_thousands', COLUMNS)).toEqual(before);
          const failed = await cli([]);
          expect(failed.code).toBe(1);
          expect(failed.stdout).toMatch(/Failed: .*not an integer/);
          expect(await warehouseRowKeys(d.warehouse, 'dm_thousands', COLUMNS)).toEqual(before);
          // An explicit tolerance loads the rows that type, and reports the others: exit 1, listed.
          const tolerated = await cli(['--max-bad-rows', '1000']);
          expect(tolerated.stdout).toMatch(/Completed: .* [1-9]\d* bad row\(s\)/);
          expect(tolerated.stdout).toMatch(
            /problem\(s\):\n {2}2026-06-01\.\.2026-06-10: [1-9]\d* bad row\(s\) not loaded \(tolerated, maxBadRows 1000\): file 1 line \d+, column \w+: not an integer/,
          );
          expect(tolerated.code).toBe(1);
        },
        { taskQueue: q },
      );
    } finally {
      sandbox.configure({ thousandsSeparator: false });
    }
  });

  it('reloads windows from their landed files without the API (fromLanded); keeps LANDED_KEEP landings a window', async () => {
    const d = testDeps({ ...dmEnv, DM_ACCOUNT: uniqueQueue('acct'), LANDED_KEEP: '2' });
    const i = input('dm_reload', { endDate: '2026-06-20' }); // two windows of 10 days
    const expected = rowsOf(i);
    const landings = async () => {
      const keys = (await d.bucket.list('landed/dailymotion-report/dm_reload/')).map((o) => o.key);
      const byWindow = new Map<string, Set<string>>();
      for (const k of keys) {
        const [window, , landing] = k.split('/').slice(3);
        if (!byWindow.has(window!)) byWindow.set(window!, new Set());
        byWindow.get(window!)!.add(landing!);
      }
      return {
        perWindow: [...byWindow.entries()].map(([w, l]) => [w, l.size]).sort(),
        manifests: keys.filter((k) => k.endsWith('/manifest.json')).length,
      };
    };
    await withWorker(env, d, async (q) => {
      for (let n = 0; n < 3; n++) expect((await run(q, i)).rowsLoaded).toBe(expected.length); // 3 reports a window
    });
    // Each run landed a new report per window; only the newest 2 stay, complete.
    expect(await landings()).toEqual({
      perWindow: [
        ['2026-06-01_2026-06-10', 2],
        ['2026-06-11_2026-06-20', 2],
      ],
      manifests: 4,
    });

    // A warehouse incident: the table is gone. The worker now has no API at all (nothing listens there, no
    // credentials): the reload reads only the landed files.
    await d.warehouse.dropTable('dm_reload');
    const offline = testDeps({ DM_BASE_URL: 'http://127.0.0.1:9' }, d.dir);
    const outcome = await withWorker(env, offline, async (q) => ({
      reloaded: await run(q, { ...i, fromLanded: true }),
      missing: await failure(q, { ...i, startDate: '2026-05-01', endDate: '2026-05-10', fromLanded: true }),
    }));
    expect(outcome.reloaded).toMatchObject({ rowsLoaded: expected.length, reportsAsked: 0, badRows: 0 });
    expect(outcome.reloaded.windows.map((w) => w.reportsAsked)).toEqual([0, 0]);
    expect(await warehouseRowKeys(offline.warehouse, 'dm_reload', COLUMNS)).toEqual(expected);
    expect(outcome.missing).toMatch(
      /2026-05-01\.\.2026-05-10: no landed report for 2026-05-01\.\.2026-05-10 of this report configuration in table dm_reload \(under landed\/dailymotion-report\/dm_reload\/2026-05-01_2026-05-10\/[^)]+\): run without --from-landed to ask the API/,
    );
    expect(await landings()).toMatchObject({ manifests: 4 }); // a reload lands nothing and deletes nothing
  });
});

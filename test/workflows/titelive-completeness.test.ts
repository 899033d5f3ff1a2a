/**
 * Titelive completeness (issue #13), on the time-skipping server against the sandbox: a query still at the
 * API's result cap after every split holds the high-water mark before it and makes `--wait` exit non-zero;
 * products modified while a query is being paged (moved within the results, or out of the query's range)
 * do not make the offset paging skip others.
 */
import { gunzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { PIPELINES } from '../../src/pipelines';
import type { TiteliveResult } from '../../src/pipelines/titelive/definition';
import { addDays } from '../../src/pipelines/titelive/sandbox/catalog';
import { TiteliveSandbox, type TiteliveSandboxOptions } from '../../src/pipelines/titelive/sandbox/server';
import type { Deps } from '../../src/activities/deps';
import { uniqueQueue, useTemporalServer, withWorker } from '../helpers/temporal';
import { timeSkippingDeps, runTitelive } from '../helpers/titelive';

const BOOKS = 600;
const PER_PAGE = 50;
const CATALOG: TiteliveSandboxOptions = {
  seed: 11,
  catalog: { books: BOOKS, music: 40, from: '2025-01-01', days: 30 },
};

describe('titelive completeness on the time-skipping server', () => {
  let env: TestWorkflowEnvironment;
  let sandbox: TiteliveSandbox;
  useTemporalServer('time-skipping', (e) => (env = e), { afterEach: () => sandbox?.stop() });

  async function start(maxResults?: number): Promise<Deps> {
    sandbox = new TiteliveSandbox({ ...CATALOG, maxResults });
    return timeSkippingDeps(env, sandbox, maxResults);
  }

  const distinctIds = async (deps: Deps) =>
    (await deps.warehouse.query<{ id: string }>('SELECT DISTINCT id FROM titelive_products')).map((r) => Number(r.id));

  it('a query still at the cap after every split: reported, the mark stays before it, --wait exits non-zero', async () => {
    // The cap is the largest single day + availability count of the range: those queries cannot be split further.
    const probe = new TiteliveSandbox(CATALOG);
    const days = Array.from({ length: 10 }, (_, i) => addDays('2025-01-01', i));
    const counts = days.flatMap((d) =>
      [0, 1, 2, 3, 4, 5, 6, 7, 8, 9].map((dispo) => ({ d, dispo, n: probe.matches('paper', d, d, dispo).length })),
    );
    const CAP = Math.max(...counts.map((c) => c.n));
    const atCap = counts.filter((c) => c.n >= CAP);
    const firstCapped = atCap[0].d;
    expect(firstCapped < '2025-01-10').toBe(true);

    const deps = await start(CAP);
    const result = await runTitelive(env, deps, uniqueQueue('tl-capped'), {
      category: 'LIVRE',
      minModifiedDate: '2025-01-01',
      maxModifiedDate: '2025-01-10',
      resultsPerPage: 10,
      images: false,
    });
    expect(result.capped.map((c) => `${c.dateMin}/${c.dispo}`)).toEqual(atCap.map((c) => `${c.d}/${c.dispo}`));
    // The mark does not move past the first incomplete day: the next incremental run starts there.
    expect(result.highWaterMark).toBe(firstCapped);
    const [state] = await deps.warehouse.query<{ d: string }>(
      `SELECT CAST(high_water_mark AS VARCHAR) AS d FROM titelive_state WHERE category = 'LIVRE'`,
    );
    expect(state.d).toBe(firstCapped);
    // `longhaul run --wait` exits 1 when a pipeline lists problems.
    const problems = PIPELINES.titelive.problems?.(result) ?? [];
    expect(problems.length).toBe(atCap.length);
    expect(problems[0]).toMatch(new RegExp(`${firstCapped}.*dispo ${atCap[0].dispo}.*cap`));
    // Days before the first capped one are complete.
    const before = probe.matches('paper', '2025-01-01', addDays(firstCapped, -1)).map((p) => p.id);
    const ids = new Set(await distinctIds(deps));
    expect(before.filter((id) => !ids.has(id))).toEqual([]);
  });

  /** Runs an extraction and modifies 10 already-fetched products while it waits before page 4 (a 429). */
  async function modifiedMidway(maxModifiedDate?: string) {
    const deps = await start();
    sandbox.failPage(4, 429, 1, 60);
    const touched: number[] = [];
    const result: TiteliveResult = await withWorker(env, deps, async (taskQueue) => {
      const handle = await env.client.workflow.start('titelive', {
        taskQueue,
        workflowId: uniqueQueue('tl-modified'),
        args: [
          {
            category: 'LIVRE',
            minModifiedDate: '2025-01-01',
            maxModifiedDate,
            resultsPerPage: PER_PAGE,
            images: false,
          },
        ],
      });
      // Time is not skipped until the result is awaited: the 429's 60 s wait holds the run before page 4.
      while (!sandbox.log.some((e) => e.route === 'search' && e.status === 429))
        await new Promise((r) => setTimeout(r, 20));
      const fetched: number[] = [];
      for (const o of await deps.bucket.list('titelive/raw/'))
        if (o.key.endsWith('.ndjson.gz'))
          for (const line of gunzipSync(await deps.bucket.get(o.key))
            .toString()
            .trim()
            .split('\n'))
            fetched.push(Number((JSON.parse(line) as { id: string }).id));
      expect(fetched).toHaveLength(3 * PER_PAGE);
      touched.push(...fetched.filter((_, i) => i % 15 === 0)); // 10 products spread over pages 1-3
      expect(await sandbox.touch(touched)).toBe(10); // modified "now" (the sandbox's today)
      return handle.result();
    });
    return { deps, result, touched };
  }

  it('products modified mid-extraction (still in range) do not make the paging skip others', async () => {
    const { deps, result } = await modifiedMidway();
    const ids = new Set(await distinctIds(deps));
    const missing = sandbox.catalog.filter((p) => p.base === 'paper' && !ids.has(p.id)).map((p) => p.id);
    expect(missing).toEqual([]);
    expect(result.products).toBeGreaterThanOrEqual(BOOKS);
  });

  it('products modified out of the range mid-extraction do not make the paging skip others', async () => {
    const { deps, touched } = await modifiedMidway('2025-01-30');
    const ids = new Set(await distinctIds(deps));
    // Every product the query still matches is loaded (the modified ones now belong to a later range).
    const expected = sandbox.matches('paper', '2025-01-01', '2025-01-30').map((p) => p.id);
    // (a product stays in the query while another of its articles is still in the range)
    expect(expected.length).toBeLessThan(BOOKS);
    expect(expected.length).toBeGreaterThanOrEqual(BOOKS - touched.length);
    expect(expected.filter((id) => !ids.has(id))).toEqual([]);
    // The drop in nbreponses was seen and the query read again from page 1, its earlier pages replaced.
    const pages = sandbox.log.filter((e) => e.route === 'search' && e.status === 200).map((e) => e.meta?.page);
    expect(pages.filter((p) => p === 1)).toHaveLength(2);
    const raw = (await deps.bucket.list('titelive/raw/')).filter((o) => o.key.endsWith('.ndjson.gz'));
    expect(raw).toHaveLength(Math.ceil(expected.length / PER_PAGE));
  });
});

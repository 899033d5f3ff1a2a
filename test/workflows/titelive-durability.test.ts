/**
 * The titelive workflow on the time-skipping server, against the Titelive sandbox whose clock follows
 * the test server's: a token expires mid-extraction (a 429 with a long Retry-After is waited out on a
 * durable timer) → the connector gets a 401, logs in again and carries on; an attempt that dies at page
 * k+1 is retried and resumes at k+1; an incremental run fetches only what changed since the high-water mark.
 */
import { describe, expect, it } from 'vitest';
import { WorkflowFailedError } from '@temporalio/client';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { TiteliveSandbox } from '../../src/pipelines/titelive/sandbox/server';
import type { TiteliveResult } from '../../src/pipelines/titelive/definition';
import { createTestWorker, type testDeps, uniqueQueue, useTemporalServer, withWorker } from '../helpers/temporal';
import { timeSkippingDeps, runTitelive } from '../helpers/titelive';

const BOOKS = 600;
const PER_PAGE = 50;
const PAGES = BOOKS / PER_PAGE;

describe('titelive on the time-skipping server', () => {
  let env: TestWorkflowEnvironment;
  let sandbox: TiteliveSandbox;
  useTemporalServer('time-skipping', (e) => (env = e), { afterEach: () => sandbox?.stop() });

  async function start(maxResults?: number): Promise<ReturnType<typeof testDeps>> {
    sandbox = new TiteliveSandbox({
      seed: 11,
      maxResults,
      catalog: { books: BOOKS, music: 40, from: '2025-01-01', days: 30 },
    });
    return timeSkippingDeps(env, sandbox, maxResults);
  }

  const searches = () => sandbox.log.filter((e) => e.route === 'search');
  const okPages = () =>
    searches()
      .filter((e) => e.status === 200)
      .map((e) => e.meta?.page as number);

  it('refreshes an expired token mid-extraction and carries on', async () => {
    const deps = await start();
    sandbox.failPage(4, 429, 1, 400); // page 4: "slow down" for 400 s, more than the 5-minute token lifetime
    const { result, skippedMs } = await withWorker(env, deps, async (taskQueue) => {
      const t0 = await env.currentTimeMs();
      const result: TiteliveResult = await env.client.workflow.execute('titelive', {
        taskQueue,
        workflowId: uniqueQueue('tl-token'),
        args: [{ category: 'LIVRE', minModifiedDate: '2025-01-01', resultsPerPage: PER_PAGE, images: false }],
      });
      return { result, skippedMs: (await env.currentTimeMs()) - t0 };
    });
    expect(skippedMs).toBeGreaterThanOrEqual(400_000);
    expect(result).toMatchObject({ pages: PAGES, products: BOOKS, queries: 1 });
    const s = searches();
    const expired = s.filter((e) => e.meta?.expired);
    expect(expired).toHaveLength(1);
    expect(expired[0].meta?.page).toBe(4);
    const logins = sandbox.log.filter((e) => e.route === 'login' && e.status === 200);
    expect(logins).toHaveLength(2);
    // After the expired call, page 4 succeeded with the new token, and every page was fetched once.
    const after = s[s.indexOf(expired[0]) + 1];
    expect(after).toMatchObject({ status: 200, meta: { page: 4, jti: logins[1].meta?.jti } });
    expect(okPages()).toEqual(Array.from({ length: PAGES }, (_, i) => i + 1));
    const [{ n }] = await deps.warehouse.query<{ n: number }>('SELECT count(DISTINCT id) AS n FROM titelive_products');
    expect(n).toBe(BOOKS);
  });

  it('resumes at page k+1 when an attempt dies after page k', async () => {
    const deps = await start();
    sandbox.failPage(6, 500, 1); // the first attempt dies at page 6 (a 5xx is transient: the activity is retried)
    const workflowId = uniqueQueue('tl-resume');
    const result = await runTitelive(env, deps, workflowId, {
      category: 'LIVRE',
      minModifiedDate: '2025-01-01',
      resultsPerPage: PER_PAGE,
      images: false,
    });
    expect(result).toMatchObject({ pages: PAGES, products: BOOKS });
    expect(searches().map((e) => [e.meta?.page, e.status])).toEqual([
      [1, 200],
      [2, 200],
      [3, 200],
      [4, 200],
      [5, 200],
      [6, 500],
      ...Array.from({ length: PAGES - 5 }, (_, i) => [i + 6, 200]),
    ]);
    const history = await env.client.workflow.getHandle(workflowId).fetchHistory();
    const attempts = (history.events ?? [])
      .map((e) => e.activityTaskStartedEventAttributes?.attempt)
      .filter((a): a is number => typeof a === 'number');
    expect(Math.max(...attempts)).toBe(2);
    const raw = (await deps.bucket.list('titelive/raw/')).filter((o) => o.key.endsWith('.ndjson.gz'));
    expect(raw).toHaveLength(PAGES);
  });

  it('an incremental run fetches only the products modified since the high-water mark', async () => {
    const deps = await start();
    await withWorker(env, deps, async (taskQueue) => {
      const run = (input: object) =>
        env.client.workflow.execute('titelive', {
          taskQueue,
          workflowId: uniqueQueue('tl-inc'),
          args: [{ category: 'LIVRE', resultsPerPage: PER_PAGE, images: false, ...input }],
        }) as Promise<TiteliveResult>;

      // Without a high-water mark or a date, an incremental run refuses to guess.
      const err = await run({ incremental: true }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(WorkflowFailedError);
      expect(((err as WorkflowFailedError).cause as Error).message).toMatch(/No high-water mark recorded for LIVRE/);

      const first = await run({ minModifiedDate: '2025-01-01' });
      expect(first).toMatchObject({ products: BOOKS, dateMin: '2025-01-01', highWaterMark: first.dateMax });

      // A day later in workflow time, four products change (on the day after the high-water mark).
      await env.sleep('1 day');
      const changedOn = new Date(Date.parse(`${first.highWaterMark}T00:00:00Z`) + 86_400_000)
        .toISOString()
        .slice(0, 10);
      const touched = [1_000_003, 1_000_100, 1_000_250, 1_000_599];
      expect(await sandbox.touch(touched, changedOn)).toBe(4);
      const before = searches().length;

      const second = await run({ incremental: true });
      expect(second.dateMin).toBe(first.highWaterMark);
      expect(second.dateMax! >= changedOn).toBe(true);
      expect(second).toMatchObject({ products: 4, rows: 4, pages: 1, highWaterMark: second.dateMax });
      // One page from the high-water mark (the day-old token is refused first, then renewed).
      expect(
        searches()
          .slice(before)
          .map((e) => [e.status, e.meta?.expired]),
      ).toEqual([
        [401, true],
        [200, undefined],
      ]);

      // The four products' changed articles were merged (one row each, from the second run); nothing else moved.
      const rows = await deps.warehouse.query<{ id: string; run_id: string }>(
        `SELECT id, run_id FROM titelive_products WHERE article_datemodification = CAST($d AS DATE) ORDER BY id`,
        { d: changedOn },
      );
      expect(rows.map((r) => Number(r.id))).toEqual(touched);
      const [{ runs }] = await deps.warehouse.query<{ runs: number }>(
        'SELECT count(DISTINCT run_id) AS runs FROM titelive_products',
      );
      expect(runs).toBe(2);
      const [{ n }] = await deps.warehouse.query<{ n: number }>(
        'SELECT count(DISTINCT id) AS n FROM titelive_products',
      );
      expect(n).toBe(BOOKS);
      const [state] = await deps.warehouse.query<{ d: string }>(
        `SELECT CAST(high_water_mark AS VARCHAR) AS d FROM titelive_state WHERE category = 'LIVRE'`,
      );
      expect(state.d).toBe(second.dateMax);
    });
  });

  it('splits queries at the result cap (date halves, then availability) so nothing is cut off', async () => {
    const CAP = 25; // stands for the API's 20,000
    const deps = await start(CAP);
    const workflowId = uniqueQueue('tl-split');
    const result = await runTitelive(env, deps, workflowId, {
      category: 'LIVRE',
      minModifiedDate: '2025-01-01',
      maxModifiedDate: '2025-01-30',
      resultsPerPage: 10,
      images: false,
    });
    const s = searches().filter((e) => e.status === 200);
    // Queries at the cap were answered on page 1 only; every query paged further was under the cap.
    const atCap = s.filter((e) => (e.meta?.nbreponses as number) >= CAP);
    expect(atCap.length).toBeGreaterThan(0);
    expect(atCap.every((e) => e.meta?.page === 1)).toBe(true);
    expect(s.filter((e) => (e.meta?.page as number) > 1).every((e) => (e.meta?.nbreponses as number) < CAP)).toBe(true);
    // Ranges were halved down to single days, and single days split by availability.
    expect(s.some((e) => e.meta?.dispo !== undefined)).toBe(true);
    expect(result.capped).toEqual([]);
    expect(result.queries).toBeGreaterThan(30);
    const [{ n }] = await deps.warehouse.query<{ n: number }>('SELECT count(DISTINCT id) AS n FROM titelive_products');
    expect(n).toBe(BOOKS);
    expect(result.rows).toBe(
      sandbox.catalog.filter((p) => p.base === 'paper').reduce((k, p) => k + p.articles.length, 0),
    );
  });

  it('a worker stopped mid-extraction: a new worker resumes after the last checkpointed page', async () => {
    const deps = await start();
    sandbox.faults.add({ route: 'search', kind: 'slow', rate: 1, delayMs: 80 }); // ~80 ms per page
    const taskQueue = uniqueQueue('tl-restart');
    // No sticky cache, so the next workflow task goes straight to the new worker; in-flight activities
    // are cancelled 10 ms after the shutdown request.
    const first = await createTestWorker(env, deps, taskQueue, { shutdownGraceTime: '10ms', maxCachedWorkflows: 0 });
    const running = first.run();
    const handle = await env.client.workflow.start('titelive', {
      taskQueue,
      workflowId: uniqueQueue('tl-restart'),
      args: [{ category: 'LIVRE', minModifiedDate: '2025-01-01', resultsPerPage: PER_PAGE, images: false }],
    });
    while (okPages().length < 4) await new Promise((r) => setTimeout(r, 5));
    first.shutdown();
    await running;
    const ckKey = (await deps.bucket.list('titelive/raw/')).find((o) => o.key.endsWith('checkpoint.json'))!.key;
    const { lastPage } = JSON.parse((await deps.bucket.get(ckKey)).toString()) as { lastPage: number };
    expect(lastPage).toBeGreaterThanOrEqual(4);
    expect(lastPage).toBeLessThan(PAGES);
    const seen = searches().length;

    const second = await createTestWorker(env, deps, taskQueue);
    const result = (await second.runUntil(handle.result())) as TiteliveResult;
    expect(result).toMatchObject({ pages: PAGES, products: BOOKS });
    // The new worker asked for lastPage + 1 first, then the rest, each once.
    expect(
      searches()
        .slice(seen)
        .map((e) => [e.meta?.page, e.status]),
    ).toEqual(Array.from({ length: PAGES - lastPage }, (_, i) => [lastPage + 1 + i, 200]));
    const [{ n }] = await deps.warehouse.query<{ n: number }>('SELECT count(DISTINCT id) AS n FROM titelive_products');
    expect(n).toBe(BOOKS);
  });
});

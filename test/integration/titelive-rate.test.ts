/**
 * Titelive's request rate, shared by every worker and run of an account (a token-bucket permit entity): three
 * runs on two workers of one queue (this process and a worker process) against a sandbox that models the API's measured rate (scaled down: 14 requests in any
 * second, a reserve of 40 refilled at 6/s, 429 beyond) stay under it — not one 429, every page, and the
 * limiter's pace actually used. Without the limiter the same sandbox answers 429s within seconds (the control:
 * the test can fail).
 */
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { TiteliveResult } from '../../src/pipelines/titelive/definition';
import { titeliveSandbox } from '../../src/pipelines/titelive/sandbox';
import { TiteliveSandbox, type TiteliveRate } from '../../src/pipelines/titelive/sandbox/server';
import { spawnWorker, ready } from '../helpers/worker-process';
import { createTestWorker, testDeps, uniqueQueue, useTemporalServer } from '../helpers/temporal';

async function until(cond: () => boolean, timeoutMs: number): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`not reached in ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

const RATE: TiteliveRate = { peakPerSecond: 14, sustainedPerSecond: 6, reserve: 40 };
const PER_SECOND = 5;
const BURST = 5;

describe('titelive requests share one rate across workers and runs', () => {
  let env: TestWorkflowEnvironment;
  let sandbox: TiteliveSandbox;
  const username = uniqueQueue('tl-rate-user'); // its own rate entity on the shared dev server
  useTemporalServer('dev', (e) => (env = e));
  beforeAll(async () => {
    sandbox = new TiteliveSandbox({ seed: 21, catalog: { books: 300, music: 0 }, rate: RATE, username });
    await sandbox.start();
  });
  afterAll(() => sandbox?.stop());
  const apiCalls = () => sandbox.log.filter((e) => e.route === 'search' || e.route === 'login');

  it('three runs on two workers: no 429, every product, never more than the API admits in a second', async () => {
    const deps = testDeps({
      ...titeliveSandbox.env(sandbox.url),
      TITELIVE_USERNAME: username,
      TITELIVE_RATE_PER_SECOND: String(PER_SECOND),
      TITELIVE_RATE_BURST: String(BURST),
    });
    // Two workers on one queue, as a deployment runs them: this process's, and a worker process of its own
    // (worker-child.ts: one SDK runtime allows one worker per queue) with its own warehouse file and the same bucket.
    const taskQueue = uniqueQueue('tl-rate');
    const worker = await createTestWorker(env, deps, taskQueue, { identity: 'worker-1' });
    const running = [worker.run()];
    const child = spawnWorker(taskQueue, {
      ...titeliveSandbox.env(sandbox.url),
      TITELIVE_USERNAME: username,
      TITELIVE_RATE_PER_SECOND: String(PER_SECOND),
      TITELIVE_RATE_BURST: String(BURST),
      LONGHAUL_DATA_DIR: deps.dir,
      DUCKDB_PATH: path.join(deps.dir, 'worker-2.duckdb'),
    });
    await ready(child);
    const starts = ['2020-01-01', '2021-01-01', '2022-01-01'];
    const handles = await Promise.all(
      starts.map((minModifiedDate) =>
        env.client.workflow.start('titelive', {
          taskQueue,
          workflowId: uniqueQueue('tl-rate-run'),
          args: [{ category: 'LIVRE', minModifiedDate, resultsPerPage: 10, images: false }],
        }),
      ),
    );
    let results: TiteliveResult[];
    try {
      results = await Promise.all(handles.map((h) => h.result() as Promise<TiteliveResult>));
    } finally {
      worker.shutdown();
      await Promise.all(running);
      child.kill('SIGTERM');
    }

    // Every product of each run's range, as the sandbox holds them.
    results.forEach((r, i) =>
      expect(r.products, starts[i]).toBe(sandbox.matches('paper', starts[i], r.dateMax!).length),
    );
    const pages = results.reduce((n, r) => n + r.pages, 0);
    expect(pages).toBeGreaterThan(60);

    // Not one 429; never more than the API's peak in any second; the limiter's own bound held too.
    const calls = apiCalls();
    expect(calls.filter((c) => c.status === 429)).toEqual([]);
    expect(sandbox.rateLimited).toBe(0);
    const times = calls.map((c) => c.at).sort((a, b) => a - b);
    const busiest = Math.max(...times.map((t) => times.filter((u) => u >= t && u < t + 1000).length));
    expect(busiest).toBeLessThanOrEqual(RATE.peakPerSecond);
    expect(busiest).toBeLessThanOrEqual(BURST + PER_SECOND + 2); // + the two workers' logins
    // Paced, not merely lucky: the searches took about what 5/s allows.
    const searches = calls.filter((c) => c.route === 'search').length;
    expect(times[times.length - 1] - times[0]).toBeGreaterThanOrEqual(((searches - BURST) / PER_SECOND) * 1000 * 0.9);

    // Both workers ran the runs' activities (the entity, not one process, kept them under the rate).
    const identities = new Set<string>();
    for (const h of handles)
      for (const e of (await h.fetchHistory()).events ?? []) {
        const id = e.activityTaskStartedEventAttributes?.identity;
        if (id) identities.add(id === 'worker-1' ? 'this process' : 'the worker process');
      }
    expect([...identities].sort()).toEqual(['the worker process', 'this process']);
  });

  it('without the limiter the same sandbox answers 429 (the control)', async () => {
    const before = sandbox.rateLimited;
    const deps = testDeps({
      ...titeliveSandbox.env(sandbox.url),
      TITELIVE_USERNAME: username,
      TITELIVE_RATE_PER_SECOND: '0',
    });
    const taskQueue = uniqueQueue('tl-norate');
    const worker = await createTestWorker(env, deps, taskQueue);
    await worker.runUntil(async () => {
      const handle = await env.client.workflow.start('titelive', {
        taskQueue,
        workflowId: uniqueQueue('tl-norate-run'),
        args: [{ category: 'LIVRE', minModifiedDate: '2020-01-01', resultsPerPage: 5, images: false }],
      });
      await until(() => sandbox.rateLimited > before, 30_000);
      await handle.terminate('control done: the sandbox answered 429');
    });
    expect(sandbox.rateLimited).toBeGreaterThan(before);
  });
});

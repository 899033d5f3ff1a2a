/**
 * The sixth API, Acme Ads, written only against the kit's async-report source, on the time-skipping server
 * against its sandbox (whose clock follows the server's): reports that take 2 hours, at most 2 generating at
 * once (the API refuses a third: it never had to), at most 60 calls a minute (it never answered 429), every
 * row the API served in the warehouse exactly once — also after a rerun, and next to another attribution
 * window's rows — a reload from the landed files asking none, and a failed report asked again.
 */
import { describe, expect, it } from 'vitest';
import { WorkflowFailedError } from '@temporalio/client';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { acmeSandbox } from '../../src/pipelines/acme/sandbox';
import { AcmeSandbox, type AcmeRow } from '../../src/pipelines/acme/sandbox/server';
import { acmeReports } from '../../src/pipelines/acme/definition';
import type { AsyncReportResult } from '../../src/kit/async-report/pipeline';
import { fingerprint } from '../../src/node/fingerprint';
import { permitDrainSignal } from '../../src/kit/limits/permits';
import { testDeps, uniqueQueue, useTemporalServer, withWorker } from '../helpers/temporal';

const HOUR = 3_600_000;

describe('acme-report (a declarative async-report source) on the time-skipping server', () => {
  let env: TestWorkflowEnvironment;
  let sandbox: AcmeSandbox;
  /** Workflows a test started: terminated after it, should it fail. */
  const started: string[] = [];
  useTemporalServer('time-skipping', (e) => (env = e), { started, afterEach: () => sandbox?.stop() });

  async function start(opts: ConstructorParameters<typeof AcmeSandbox>[0] = {}) {
    // A token of the test's own: its own permit entities.
    const token = `acme-${uniqueQueue()}`;
    sandbox = new AcmeSandbox({ seed: 3, generationMs: 2 * HOUR, tokens: [token], ...opts });
    const url = await sandbox.start();
    sandbox.clock.follow(() => env.currentTimeMs());
    const account = fingerprint(token);
    started.push(`permits-acme-reports-${account}`, `permits-acme-calls-${account}`);
    return testDeps({ ...acmeSandbox.env(url), ACME_TOKEN: token });
  }
  /** A workflow ID, remembered for the clean-up. */
  const id = (prefix: string) => {
    const w = uniqueQueue(prefix);
    started.push(w);
    return w;
  };

  const stored = async (deps: ReturnType<typeof testDeps>, attribution: string) =>
    (
      await deps.warehouse.select<AcmeRow>(acmeReports.table, {
        where: { attribution },
        orderBy: ['day', 'campaign_id'],
      })
    ).map((r) => ({
      ...r,
      day: String(r.day).slice(0, 10),
      impressions: Number(r.impressions),
      clicks: Number(r.clicks),
    }));

  it('loads 30 days in 5 reports of 2 hours, 2 at a time, exactly once, and a rerun changes nothing', async () => {
    const deps = await start();
    // Polls every 25 minutes (5 per 2-hour report): the workflow's waits, not its polls, are under test here.
    const input = { from: '2026-01-01', to: '2026-01-30', windowDays: 7, attribution: '7d', pollEvery: '25m' };
    const { first, second, other, reload, skippedMs } = await withWorker(env, deps, async (taskQueue) => {
      const t0 = await env.currentTimeMs();
      const run = (args: object, id: string) =>
        env.client.workflow.execute('acmeReport', {
          taskQueue,
          workflowId: id,
          args: [args],
        }) as Promise<AsyncReportResult>;
      const first = await run(input, id('acme'));
      const skippedMs = (await env.currentTimeMs()) - t0;
      const second = await run(input, id('acme-rerun'));
      const other = await run({ ...input, attribution: '28d' }, id('acme-28d'));
      // A reload from the landed files: no report asked, the same rows.
      const reload = await run({ ...input, fromLanded: true }, id('acme-reload'));
      await settle(env, deps);
      return { first, second, other, reload, skippedMs };
    });
    const expected = sandbox.rowsFor('2026-01-01', '2026-01-30', '7d');
    expect(first).toMatchObject({ windows: 5, reports: 5, recreated: 0, rows: expected.length, files: 5 });
    expect(second.rows).toBe(expected.length);
    expect(other.rows).toBe(expected.length);
    expect(reload).toMatchObject({ windows: 5, reports: 0, rows: expected.length, files: 5 });
    // 5 reports, 2 generating at a time: 3 rounds of 2 hours at least.
    expect(skippedMs).toBeGreaterThanOrEqual(6 * HOUR);
    expect(skippedMs).toBeLessThan(8 * HOUR);
    // The truth: what the API served, once, and the other attribution's rows untouched by the rerun.
    expect(await stored(deps, '7d')).toEqual(expected);
    expect(await stored(deps, '28d')).toEqual(sandbox.rowsFor('2026-01-01', '2026-01-30', '28d'));
    expect(sandbox.peakGenerating).toBeLessThanOrEqual(2);
    expect(sandbox.log.filter((e) => e.status === 429)).toEqual([]);
    // 15 reports for the three runs that asked; the reload asked none.
    expect(sandbox.truth('report-created')).toHaveLength(15);
    await deps.warehouse.close();
  }, 240_000);

  it('asks again for a report that failed, and fails a window whose reports keep failing, naming it', async () => {
    const deps = await start({ generationMs: HOUR });
    sandbox.failReports(1);
    const { ok, failure } = await withWorker(env, deps, async (taskQueue) => {
      const ok = (await env.client.workflow.execute('acmeReport', {
        taskQueue,
        workflowId: id('acme-failed'),
        args: [{ from: '2026-02-01', to: '2026-02-07', attribution: '1d', pollEvery: '25m' }],
      })) as AsyncReportResult;
      sandbox.failReports(3);
      const failure = await env.client.workflow
        .execute('acmeReport', {
          taskQueue,
          workflowId: id('acme-failing'),
          args: [{ from: '2026-03-01', to: '2026-03-03', attribution: '1d', pollEvery: '25m' }],
        })
        .catch((e: unknown) => e);
      await settle(env, deps);
      return { ok, failure };
    });
    expect(ok).toMatchObject({ windows: 1, reports: 2, recreated: 1, rows: 7 * 12 });
    expect(await stored(deps, '1d')).toEqual(sandbox.rowsFor('2026-02-01', '2026-02-07', '1d'));
    expect(failure).toBeInstanceOf(WorkflowFailedError);
    expect(String((failure as WorkflowFailedError).cause?.message)).toMatch(
      /Acme Ads report 2026-03-01\.\.2026-03-03 failed: the report could not be generated; asked 3 times/,
    );
    await deps.warehouse.close();
  }, 240_000);
});

/**
 * Before the worker goes: the account's permit entities (report slots, calls) are drained and awaited through
 * the time-skipping client (the last 60-second window passes in skipped time), so the next test's worker
 * starts fresh ones.
 */
async function settle(env: TestWorkflowEnvironment, deps: ReturnType<typeof testDeps>): Promise<void> {
  const account = fingerprint(deps.config.env.ACME_TOKEN!);
  for (const id of [`permits-acme-reports-${account}`, `permits-acme-calls-${account}`]) {
    const entity = env.client.workflow.getHandle(id);
    await entity.signal(permitDrainSignal);
    await entity.result();
  }
}

/**
 * The Web UI story on the real dev server: a dailymotion-report run started through the client path carries
 * a static summary/details and a memo (summary, input fingerprint, then the outcome written by the workflow),
 * its activities, timers and child workflows carry summaries in their history events (user metadata), and
 * the workflow's current details (the metadata query the Web UI calls) follow its progress.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { list, status } from '../../src/cli/inspect';
import { runPipeline } from '../../src/cli/run';
import { PIPELINES } from '../../src/pipelines';
import {
  ACCOUNT_ATTRIBUTE,
  PIPELINE_ATTRIBUTE,
  RANGE_END_ATTRIBUTE,
  RANGE_START_ATTRIBUTE,
} from '../../src/shared/search-attributes';
import type { DailymotionReportResult } from '../../src/pipelines/dailymotion/definition';
import type { DailymotionSandbox } from '../../src/pipelines/dailymotion/sandbox';
import { startDailymotionSandbox } from '../helpers/dailymotion';
import { summaries } from '../helpers/histories';
import { testDeps, uniqueQueue, useTemporalServer, withWorker } from '../helpers/temporal';

describe('Web UI metadata on the dev server', () => {
  let env: TestWorkflowEnvironment;
  let sandbox: DailymotionSandbox;
  let dmEnv: Record<string, string>;
  useTemporalServer('dev', (e) => (env = e));
  beforeAll(async () => {
    ({ sandbox, env: dmEnv } = await startDailymotionSandbox({ generationMs: 700, rowsPerFile: 400 }));
  });
  afterAll(() => sandbox?.stop());

  it('a dailymotion-report run reads as a story: summaries on the run, its children, activities and timers', async () => {
    const account = `${uniqueQueue('acct')}ab12`;
    const deps = testDeps({ ...dmEnv, DM_ACCOUNT: account });
    const table = `ui_meta_${uniqueQueue('t').slice(2)}`;
    await withWorker(env, deps, async (taskQueue) => {
      const pipeline = { ...PIPELINES['dailymotion-report'], taskQueue };
      const input = pipeline.input.parse({
        metrics: ['VIEWS'],
        dimensions: ['DAY', 'VIDEO_ID'],
        startDate: '2026-01-01',
        endDate: '2026-01-30',
        windowDays: 15,
        table,
        poll: { initialDelay: '200ms', factor: 2, maxDelay: '1s' },
      });
      const outcome = await runPipeline(env.client, deps.config, pipeline, input, { wait: true }, () => {});
      expect(outcome.status).toBe('completed');
      const result = outcome.result as DailymotionReportResult;
      const handle = env.client.workflow.getHandle(outcome.workflowId);

      // Set by the client at start.
      const summary = `Dailymotion report 2026-01-01 → 2026-01-30 (2 windows of 15 days) into ${table}, account …ab12`;
      const d = await handle.describe();
      expect(await d.staticSummary()).toBe(summary);
      expect(await d.staticDetails()).toContain('- metrics: VIEWS');
      expect(d.memo).toMatchObject({ pipeline: 'dailymotion-report', summary });
      expect(d.memo?.input).toMatch(/^[0-9a-f]{8}$/);
      // Search attributes: the pipeline, the account, the data range (whole days, UTC).
      expect(d.typedSearchAttributes.get(PIPELINE_ATTRIBUTE)).toBe('dailymotion-report');
      expect(d.typedSearchAttributes.get(ACCOUNT_ATTRIBUTE)).toBe(account);
      expect(d.typedSearchAttributes.get(RANGE_START_ATTRIBUTE)?.toISOString()).toBe('2026-01-01T00:00:00.000Z');
      expect(d.typedSearchAttributes.get(RANGE_END_ATTRIBUTE)?.toISOString()).toBe('2026-01-30T23:59:59.999Z');
      // Written by the workflow at its end.
      expect(d.memo?.outcome).toBe(pipeline.summarize(result));
      expect(d.memo?.outcome).toMatch(/^\d+ rows into ui_meta_\w+ from 2 window\(s\), 2 report\(s\) asked/);

      // The parent: the account activity, then one child per window.
      const parent = (await handle.fetchHistory()).events ?? [];
      expect(summaries(parent)).toEqual([
        'activity: identify the Dailymotion account (fingerprint of the credentials)',
        `child: window 1/2: 2026-01-01 → 2026-01-15, account …ab12`,
        `child: window 2/2: 2026-01-16 → 2026-01-30, account …ab12`,
      ]);

      // A window: slot, ask, polls on timers, load — each step says what it is.
      const child = env.client.workflow.getHandle(`${outcome.workflowId}-w1-2026-01-01_2026-01-15`);
      const all = summaries((await child.fetchHistory()).events ?? []);
      const label = 'report 2026-01-01..2026-01-15';
      // The slot's own timer runs beside the steps: the requester's watchdog (ask the semaphore again if no
      // grant came, renew the lease while holding), started once: the report took 700 ms.
      const slot = 'report slot (at most 2 generating, account …ab12)';
      const slotTimer = `timer: ${slot}: renew held leases every 10m, ask again every 10m for permits not granted`;
      expect(all.filter((s) => s.startsWith(`timer: ${slot}`))).toEqual([slotTimer]);
      // The slot is asked by a signal when the semaphore runs (the other window started it), else through the
      // activity that starts it: either way the ask comes before the report's.
      const slotAsk = `activity: wait for a ${slot}: ${label}, ask 1/3`;
      const steps = all.filter((s) => s !== slotTimer && s !== slotAsk);
      expect(all.filter((s) => s.includes(slot)).every((s) => s === slotTimer || s === slotAsk)).toBe(true);
      if (all.includes(slotAsk)) expect(all.indexOf(slotAsk)).toBeLessThan(all.indexOf(steps[0]!));
      expect(steps[0]).toBe(`activity: ask ${label} (ask 1/3)`);
      expect(steps[1]).toBe(`activity: poll 1 of ${label} (ask 1/3)`);
      expect(steps[2]).toBe(`timer: ${label} still generating: poll 2 in 200ms`);
      expect(steps.at(-1)).toBe(`activity: download and load ${label} into ${table} (replace)`);
      const polls = steps.filter((s) => s.startsWith('activity: poll '));
      const timers = steps.filter((s) => s.startsWith('timer: '));
      expect(polls.length).toBeGreaterThan(1); // the report took 700 ms: polled more than once
      expect(timers.length).toBe(polls.length - 1); // a timer between two polls, each with its own summary
      expect(timers.at(-1)).toMatch(new RegExp(`poll ${polls.length} in \\d+(ms|s)$`));
      expect(steps.every((s) => !s.endsWith('(none)'))).toBe(true);
      expect((await child.describe()).memo?.outcome).toMatch(/^\d+ rows loaded for 2026-01-01..2026-01-15 from/);

      // Current details (what the Web UI shows under "Current details"), through the SDK's metadata query.
      const meta = await handle.query<{ currentDetails?: string }>('__temporal_workflow_metadata');
      expect(meta.currentDetails).toContain('**done** — 2 of 2 windows');
      expect(meta.currentDetails).toContain(`outcome: ${d.memo?.outcome as string}`);

      // The CLI shows both lines.
      const s = await status(env.client, deps.config, outcome.workflowId);
      expect(s).toMatchObject({ summary, outcome: d.memo?.outcome });
      let rows: Awaited<ReturnType<typeof list>> = [];
      for (let i = 0; i < 50 && !rows.some((r) => r.workflowId === outcome.workflowId); i++) {
        rows = await list(env.client, { pipeline: 'dailymotion-report' });
        await new Promise((r) => setTimeout(r, 100));
      }
      expect(rows.find((r) => r.workflowId === outcome.workflowId)).toMatchObject({ summary, outcome: s.outcome });
    });
  });

  it('status says so when no worker answers the progress query, instead of hanging', async () => {
    const deps = testDeps();
    const taskQueue = uniqueQueue('nobody'); // no worker polls it
    const pipeline = { ...PIPELINES.selftest, taskQueue };
    const label = uniqueQueue('noworker');
    const input = pipeline.input.parse({ sleep: 1000, label });
    const started = await runPipeline(env.client, deps.config, pipeline, input, {}, () => {});
    try {
      const t0 = Date.now();
      const s = await status(env.client, deps.config, started.workflowId, 1000);
      expect(Date.now() - t0).toBeLessThan(5000);
      expect(s.progress).toBeUndefined();
      expect(s.note).toBe(
        `no worker answered the progress query within 1 s: is a worker polling task queue "${taskQueue}"?`,
      );
      expect(s.summary).toBe(`Selftest "${label}": durable timer of 1s, then a row + an object`);
    } finally {
      await env.client.workflow.getHandle(started.workflowId).terminate('test over');
    }
  });
});

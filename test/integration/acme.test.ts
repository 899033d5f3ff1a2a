/**
 * The sixth API, Acme Ads, end to end on the dev server (real time) against its sandbox, started the way
 * `longhaul run acme-report` starts it: a worker stopped while reports generate and another taking over, a
 * run continuing as new between its windows — and the warehouse holds exactly what the API served, with the
 * API's own limits (2 generating, 60 calls a minute) never hit. Saves the histories of the source's workflow
 * and of the kit's rate-window limiter for the replay test.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { runPipeline } from '../../src/cli/run';
import { PIPELINES } from '../../src/pipelines';
import { acmeSandbox } from '../../src/pipelines/acme/sandbox';
import { AcmeSandbox, type AcmeRow } from '../../src/pipelines/acme/sandbox/server';
import { acmeReports } from '../../src/pipelines/acme/definition';
import type { AsyncReportResult } from '../../src/kit/async-report/pipeline';
import { fingerprint } from '../../src/node/fingerprint';
import { permitDrainSignal } from '../../src/kit/limits/permits';
import { maybeSaveHistory } from '../helpers/histories';
import { createTestWorker, testDeps, uniqueQueue, useTemporalServer, waitForClose } from '../helpers/temporal';

describe('acme-report on the dev server', () => {
  let env: TestWorkflowEnvironment;
  let sandbox: AcmeSandbox;
  useTemporalServer('dev', (e) => (env = e));
  beforeAll(async () => {
    sandbox = new AcmeSandbox({ seed: 8, generationMs: 3_000, rowsPerFile: 50 });
    await sandbox.start();
  });
  afterAll(() => sandbox?.stop());

  it('survives a worker stopped mid-run and loads exactly what the API served', async () => {
    // A token of this test's own: the account's limits are entity workflows its workers serve.
    const token = `acme-${uniqueQueue()}`;
    sandbox.addToken(token);
    const deps = testDeps({ ...acmeSandbox.env(sandbox.url), ACME_TOKEN: token });
    const account = fingerprint(token);
    const taskQueue = uniqueQueue('acme');
    const pipeline = { ...PIPELINES['acme-report'], taskQueue };
    const input = { from: '2026-04-01', to: '2026-04-21', windowDays: 7, attribution: '28d', windowsPerRun: 2 };

    // Worker 1: starts the run, and is stopped once the first reports are generating.
    const first = await createTestWorker(env, deps, taskQueue);
    const started = await first.runUntil(async () => {
      const outcome = await runPipeline(env.client, deps.config, pipeline, input, { wait: false }, () => {});
      while (sandbox.truth('report-created').filter((t) => String(t.data.start) >= '2026-04-01').length < 2)
        await new Promise((r) => setTimeout(r, 100));
      return outcome;
    });
    // Worker 2 takes over: the polls, the loads, the third window after continue-as-new.
    const second = await createTestWorker(env, deps, taskQueue);
    const result = await second.runUntil(async () => {
      const r = (await env.client.workflow.getHandle(started.workflowId).result()) as AsyncReportResult;
      // Idle report slots end by themselves after 10 minutes; drained here, they end at once.
      await env.client.workflow.getHandle(`permits-acme-reports-${account}`).signal(permitDrainSignal);
      await waitForClose(env, `permits-acme-reports-${account}`);
      await maybeSaveHistory(env.address, started.workflowId, 'acme-report');
      // Since the requester's watchdog wakes when due (PERMITS_WATCHDOG_DUE): a run of that path too.
      await maybeSaveHistory(env.address, started.workflowId, 'acme-report-watchdog-due');
      await maybeSaveHistory(env.address, `permits-acme-reports-${account}`, 'permits-concurrency');
      // The rate window keeps today's count until the UTC reset (it ends then, or when drained): saved running.
      await maybeSaveHistory(env.address, `permits-acme-calls-${account}`, 'permits-rate-window');
      return r;
    });

    const expected = sandbox.rowsFor('2026-04-01', '2026-04-21', '28d');
    expect(result).toMatchObject({ windows: 3, reports: 3, recreated: 0, rows: expected.length, files: 6 });
    const stored = await deps.warehouse.select<AcmeRow>(acmeReports.table, {
      where: { attribution: '28d' },
      orderBy: ['day', 'campaign_id'],
    });
    expect(
      stored.map((r) => ({
        ...r,
        day: String(r.day).slice(0, 10),
        impressions: Number(r.impressions),
        clicks: Number(r.clicks),
      })),
    ).toEqual(expected);
    // The truth: 3 reports asked (a create retried after the stop gave back the same report), each part
    // served, the API's limits never hit.
    expect(sandbox.truth('report-created').filter((t) => String(t.data.start) >= '2026-04-01')).toHaveLength(3);
    expect(sandbox.peakGenerating).toBeLessThanOrEqual(2);
    expect(sandbox.log.filter((e) => e.status === 429)).toEqual([]);
    await deps.warehouse.close();
  }, 180_000);
});

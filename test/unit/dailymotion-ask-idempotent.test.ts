/**
 * askReport is idempotent across attempts: the ask is recorded in the bucket (a claim before the call, the
 * token right after), so an attempt retried after the API accepted the ask (its completion never reached
 * Temporal: worker killed, network cut) reuses the token instead of asking a second report, which would
 * generate outside the report semaphore's count.
 */
import { describe, expect, it } from 'vitest';
import { MockActivityEnvironment } from '@temporalio/testing';
import { ApplicationFailure } from '@temporalio/common';
import {
  createDailymotionActivities,
  askClaimKey,
  type AskInput,
} from '../../src/pipelines/dailymotion/activities/report';
import { startDailymotionSandbox } from '../helpers/dailymotion';
import { stoppedAfterEach } from '../helpers/lifetimes';
import { testDeps } from '../helpers/temporal';

const ASK: AskInput = {
  metrics: ['VIEWS'],
  dimensions: ['DAY', 'VIDEO_ID'],
  product: 'CONTENT',
  window: { start: '2026-01-01', end: '2026-01-05' },
  ask: 1,
};
const execution = { workflowId: 'dm-test/window-0', runId: 'run-1' };
const attempt = (n: number) => new MockActivityEnvironment({ attempt: n, workflowExecution: execution } as never);

describe('askReport idempotency', () => {
  const stopLater = stoppedAfterEach();

  it('a retried attempt after the API accepted the ask reuses the token: the sandbox saw one ask', async () => {
    const started = await startDailymotionSandbox();
    const sandbox = stopLater(started.sandbox);
    const deps = testDeps(started.env);
    const acts = createDailymotionActivities(deps);
    const first = await attempt(1).run(acts.askReport, ASK);
    // The first attempt's completion is lost (the worker died right after the call): Temporal retries it.
    const second = await attempt(2).run(acts.askReport, ASK);
    expect(second).toBe(first);
    expect(await sandbox.asks()).toHaveLength(1);
    const claim = JSON.parse((await deps.bucket.get(askClaimKey(execution.workflowId, execution.runId, 1))).toString());
    expect(claim.token).toBe(first);
    // Another ask number of the same window is a new report.
    const other = await attempt(1).run(acts.askReport, { ...ASK, ask: 2 });
    expect(other).not.toBe(first);
    expect(await sandbox.asks()).toHaveLength(2);
  });

  it('a claim without a token (outcome unknown) holds the slot for a bounded time before asking again', async () => {
    const started = await startDailymotionSandbox();
    const sandbox = stopLater(started.sandbox);
    const deps = testDeps(started.env);
    let now = Date.parse('2026-01-10T10:00:00Z');
    const acts = createDailymotionActivities(deps, { unknownAskHoldMs: 20 * 60_000, now: () => now });
    const key = askClaimKey(execution.workflowId, execution.runId, 1);
    await deps.bucket.put(key, JSON.stringify({ askedAt: new Date(now - 5 * 60_000).toISOString() }));
    const err = await attempt(2)
      .run(acts.askReport, ASK)
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ApplicationFailure);
    expect((err as ApplicationFailure).type).toBe('Dailymotion_ask_unknown');
    expect((err as ApplicationFailure).nextRetryDelay).toBe(15 * 60_000);
    expect(await sandbox.asks()).toHaveLength(0);
    now += 15 * 60_000;
    const token = await attempt(3).run(acts.askReport, ASK);
    expect(await sandbox.asks()).toHaveLength(1);
    expect(JSON.parse((await deps.bucket.get(key)).toString()).token).toBe(token);
  });
});

/**
 * A pool's quota ledger — the permit entity with the keyPool policy, through the activity-side client — on the
 * time-skipping server: reservations through real updates, an invalid reservation refused by the validator
 * (nothing in history), "wait until the reset" and a grant after it, and state carried across continue-as-new.
 */
import { describe, expect, it } from 'vitest';
import { WorkflowUpdateFailedError } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { ledgerStateQuery, reserveUpdate, type LedgerConfig } from '../../src/kit/limits/quota';
import { QuotaLedgerClient } from '../../src/kit/activity/quota-ledger';
import { testDeps, uniqueQueue, useTemporalServer, withWorker } from '../helpers/temporal';

const config: LedgerConfig = {
  buckets: [
    { id: 'p1', unitsPerPeriod: 5, reset: { kind: 'pacific-midnight' }, keys: ['fp-1a', 'fp-1b'] },
    { id: 'p2', unitsPerPeriod: 5, reset: { kind: 'pacific-midnight' }, keys: ['fp-2'] },
  ],
  costs: { 'videos.list': 1 },
};

describe('quota ledger workflow', () => {
  let env: TestWorkflowEnvironment;
  /** The ledgers a test started: drained while its worker still polls (see withWorker), never terminated. */
  const started: string[] = [];
  useTemporalServer('time-skipping', (e) => (env = e), { started, checkSkipping: true });

  it('grants, refuses bad requests, says wait, grants after the reset and survives continue-as-new', async () => {
    const ledgerId = uniqueQueue('quota-ledger-test');
    started.push(ledgerId);
    await withWorker(env, testDeps(), async (taskQueue) => {
      const client = new QuotaLedgerClient(env.client, ledgerId, taskQueue, config, 30);
      const reserve = (calls: number) => client.reserve({ method: 'videos.list', calls });

      const a = await reserve(3);
      const firstRun = (await env.client.workflow.getHandle(ledgerId).describe()).runId;
      expect(a).toMatchObject({ kind: 'granted', permit: { bucket: 'p1', fingerprint: 'fp-1a', calls: 3 } });
      const err = await client.reserve({ method: 'nope', calls: 1 }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(WorkflowUpdateFailedError);
      expect(String((err as WorkflowUpdateFailedError).cause)).toMatch(/no cost configured for method nope/);
      if (a.kind !== 'granted') throw new Error('unreachable');
      await client.refund(a.permit, 1);
      await client.markInvalid('fp-1b', 'API key not valid');
      expect(await reserve(10)).toMatchObject({ kind: 'granted', permit: { bucket: 'p2', calls: 5 } });
      expect(await reserve(10)).toMatchObject({
        kind: 'granted',
        permit: { bucket: 'p1', fingerprint: 'fp-1a', calls: 4 },
      });
      const wait = await reserve(1);
      expect(wait.kind).toBe('wait');
      if (wait.kind !== 'wait') throw new Error('unreachable');

      // More than 30 events: the ledger continued as new and kept its state.
      const state = await env.client.workflow.getHandle(ledgerId).query(ledgerStateQuery);
      expect((await env.client.workflow.getHandle(ledgerId).describe()).runId).not.toBe(firstRun);
      expect(state.buckets.map((b) => [b.id, b.used])).toEqual([
        ['p1', 5],
        ['p2', 5],
      ]);
      expect(state.removed).toMatchObject([{ fingerprint: 'fp-1b', bucket: 'p1', reason: 'API key not valid' }]);

      await env.sleep(wait.until - (await env.currentTimeMs()) + 1000);
      expect(await reserve(2)).toMatchObject({ kind: 'granted', permit: { calls: 2 } });
    });
  });

  it('keeps serving concurrent callers while it continues as new every few updates', async () => {
    const ledgerId = uniqueQueue('quota-ledger-busy');
    started.push(ledgerId);
    await withWorker(env, testDeps(), async (taskQueue) => {
      const busy: LedgerConfig = { ...config, buckets: config.buckets.map((b) => ({ ...b, unitsPerPeriod: 1000 })) };
      const client = new QuotaLedgerClient(env.client, ledgerId, taskQueue, busy, 30);
      const results = await Promise.all(
        Array.from({ length: 40 }, async () => {
          const r = await client.reserve({ method: 'videos.list', calls: 3 });
          if (r.kind !== 'granted') throw new Error(JSON.stringify(r));
          await client.refund(r.permit, 1);
          return r.permit;
        }),
      );
      expect(new Set(results.map((p) => p.id)).size).toBe(40);
      const state = await env.client.workflow.getHandle(ledgerId).query(ledgerStateQuery);
      expect(state.buckets.reduce((n, b) => n + b.used, 0)).toBe(40); // 3 reserved, 2 given back, each time
      expect(state.permits).toBe(40);
      // The run serving the last update was continued from another: the entity moved while serving.
      const history = await env.client.workflow.getHandle(ledgerId).fetchHistory();
      expect(history.events?.[0].workflowExecutionStartedEventAttributes?.continuedExecutionRunId).toBeTruthy();
    });
  });

  it('refuses a configuration that contradicts the running ledger, and joins one that only adds', async () => {
    const ledgerId = uniqueQueue('quota-ledger-conflict');
    started.push(ledgerId);
    await withWorker(env, testDeps(), async (taskQueue) => {
      const first = new QuotaLedgerClient(env.client, ledgerId, taskQueue, config);
      expect(await first.reserve({ method: 'videos.list', calls: 1 })).toMatchObject({ kind: 'granted' });
      const refusal = (c: LedgerConfig) =>
        new QuotaLedgerClient(env.client, ledgerId, taskQueue, c).reserve({ method: 'videos.list', calls: 1 }).then(
          () => undefined,
          (e: unknown) => e,
        );
      // Another worker or pipeline with other units per day, another cost, a key in another bucket.
      const units = await refusal({ ...config, buckets: config.buckets.map((b) => ({ ...b, unitsPerPeriod: 7 })) });
      expect(units).toBeInstanceOf(ApplicationFailure);
      expect((units as ApplicationFailure).type).toBe('QuotaLedgerConflict');
      expect((units as ApplicationFailure).nonRetryable).toBe(true);
      expect((units as ApplicationFailure).message).toMatch(
        new RegExp(
          `^LedgerConflict: quota ledger ${ledgerId} is configured differently — bucket p1: 7 units per period asked, the ledger has 5`,
        ),
      );
      const cost = await refusal({ ...config, costs: { 'videos.list': 11 } });
      expect((cost as ApplicationFailure).message).toMatch(/method videos\.list: cost 11 asked, the ledger has 1/);
      const moved = await refusal({
        ...config,
        buckets: [{ id: 'p9', unitsPerPeriod: 5, reset: { kind: 'pacific-midnight' }, keys: ['fp-2'] }],
      });
      expect((moved as ApplicationFailure).message).toMatch(/key fp-2: in bucket p9 asked, the ledger has p2/);
      let state = await env.client.workflow.getHandle(ledgerId).query(ledgerStateQuery);
      expect(state.buckets.map((b) => [b.id, b.unitsPerPeriod, b.used])).toEqual([
        ['p1', 5, 1],
        ['p2', 5, 0],
      ]);
      expect(state.costs).toEqual({ 'videos.list': 1 });

      // A worker with one more project and a watcher's method: added; nothing dropped or changed.
      const more: LedgerConfig = {
        buckets: [{ id: 'p3', unitsPerPeriod: 5, reset: { kind: 'pacific-midnight' }, keys: ['fp-3'] }],
        costs: { 'search.list': 100 },
      };
      expect(
        await new QuotaLedgerClient(env.client, ledgerId, taskQueue, more).reserve({ method: 'search.list', calls: 1 }),
      ).toMatchObject({ kind: 'wait' }); // 100 units a call: no bucket of 5 can serve it
      state = await env.client.workflow.getHandle(ledgerId).query(ledgerStateQuery);
      expect(state.buckets.map((b) => [b.id, b.unitsPerPeriod, b.keys.map((k) => k.fingerprint)])).toEqual([
        ['p1', 5, ['fp-1a', 'fp-1b']],
        ['p2', 5, ['fp-2']],
        ['p3', 5, ['fp-3']],
      ]);
      expect(state.costs).toEqual({ 'videos.list': 1, 'search.list': 100 });
    });
  });

  it('takes over a pool still run by the older quotaLedger workflow: its usage and settings carried', async () => {
    const ledgerId = uniqueQueue('quota-ledger-takeover');
    started.push(ledgerId);
    await withWorker(env, testDeps(), async (taskQueue) => {
      const old = await env.client.workflow.start('quotaLedger', {
        taskQueue,
        workflowId: ledgerId,
        args: [{ config }],
      });
      await old.executeUpdate(reserveUpdate, { args: [{ method: 'videos.list', calls: 4 }] });
      // The upgraded worker's first call: the old ledger ends, the permit entity starts from its state.
      const client = new QuotaLedgerClient(env.client, ledgerId, taskQueue, config);
      expect(await client.reserve({ method: 'videos.list', calls: 5 })).toMatchObject({
        kind: 'granted',
        permit: { bucket: 'p2', calls: 5 },
      });
      expect(await client.reserve({ method: 'videos.list', calls: 5 })).toMatchObject({
        kind: 'granted',
        permit: { bucket: 'p1', calls: 1 }, // 4 of p1's 5 were spent before the upgrade
      });
      const first = env.client.workflow.getHandle(ledgerId, old.firstExecutionRunId);
      expect((await first.describe()).status.name).toBe('TERMINATED');
      expect((await env.client.workflow.getHandle(ledgerId).describe()).type).toBe('permits');
      const state = await env.client.workflow.getHandle(ledgerId).query(ledgerStateQuery);
      expect(state.buckets.map((b) => [b.id, b.used])).toEqual([
        ['p1', 5],
        ['p2', 5],
      ]);
    });
  });
});

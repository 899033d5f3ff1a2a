/**
 * The permit entity on the time-skipping server, driven the way requesters drive it (asks, renewals, releases
 * by signal; a start through the request activity's function): first come first served, a dead holder's lease
 * reclaimed, waiters kept across continue-as-new. (An entity terminated mid-use is restarted from its last
 * state: test/integration/permits-restart.test.ts, on the dev server — a test that terminates workflows
 * mid-run does not belong on the shared time-skipping server.)
 */
import { describe, expect, it } from 'vitest';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import {
  permitAskSignal,
  permitDrainSignal,
  permitGrantedSignal,
  permitReleaseSignal,
  permitStateQuery,
  permitTryUpdate,
  type PermitEntityState,
} from '../../src/kit/limits/permits';
import { initPolicy } from '../../src/kit/limits/permit-policies';
import { ask, entity, requesters, startEntity, stop } from '../helpers/permits';
import { testDeps, uniqueQueue, useTemporalServer, withWorker } from '../helpers/temporal';

describe('the permit entity', () => {
  let env: TestWorkflowEnvironment;
  useTemporalServer('time-skipping', (e) => (env = e));

  it('grants first come first served, and reclaims the permit of a holder that stopped renewing', async () => {
    await withWorker(env, testDeps(), async (taskQueue) => {
      const [a, b, c] = await requesters(env, taskQueue, 3);
      const id = uniqueQueue('permits-fifo');
      const h = await startEntity(env, taskQueue, id, entity(1), ask('r1', a));
      await h.signal(permitAskSignal, ask('r2', b));
      await h.signal(permitAskSignal, ask('r3', c));
      let s = await h.query(permitStateQuery);
      expect(s.holders.map((x) => x.requestId)).toEqual(['r1']);
      expect(s.waiting.map((x) => x.requestId)).toEqual(['r2', 'r3']);
      // r2's holder renews before its lease ends; r1's never does: after its lease, r2 holds it — not r3.
      await env.sleep(45_000);
      s = await h.query(permitStateQuery);
      expect(s.holders.map((x) => x.requestId)).toEqual(['r1']);
      await env.sleep(20_000);
      s = await h.query(permitStateQuery);
      expect(s.holders.map((x) => x.requestId)).toEqual(['r2']);
      await h.signal(permitAskSignal, { ...ask('r2', b), held: true }); // renewal
      await h.signal(permitReleaseSignal, { requestId: 'r2' });
      await env.sleep(1_000);
      s = await h.query(permitStateQuery);
      expect(s.holders.map((x) => x.requestId)).toEqual(['r3']);
      expect(s).toMatchObject({ granted: 3, peakHeld: 1 });
      await h.signal(permitReleaseSignal, { requestId: 'r3' });
      await h.signal(permitDrainSignal);
      await h.result();
      for (const r of [a, b, c]) await stop(env, r);
    });
  });

  it('keeps its holders and waiters when it continues as new', async () => {
    await withWorker(env, testDeps(), async (taskQueue) => {
      const [a] = await requesters(env, taskQueue, 1);
      const id = uniqueQueue('permits-can');
      const h = await startEntity(env, taskQueue, id, entity(2, { historyLimit: 30 }), ask('q0', a));
      const firstRun = (await h.describe()).runId;
      for (let i = 1; i < 12; i++) await h.signal(permitAskSignal, ask(`q${i}`, a));
      for (let i = 0; i < 12; i++) {
        await env.sleep(500);
        await h.signal(permitReleaseSignal, { requestId: `q${i}` });
      }
      await env.sleep(1_000);
      const s = await h.query(permitStateQuery);
      expect(s.granted).toBe(12);
      expect(s.peakHeld).toBe(2);
      expect(s.holders).toEqual([]);
      expect(s.waiting).toEqual([]);
      expect((await env.client.workflow.getHandle(id).describe()).runId).not.toBe(firstRun);
      await h.signal(permitDrainSignal);
      await env.client.workflow.getHandle(id).result();
      await stop(env, a);
    });
  });

  it('does not queue again a request released before its re-ask landed (a re-ask that crossed its grant)', async () => {
    await withWorker(env, testDeps(), async (taskQueue) => {
      const [a, b] = await requesters(env, taskQueue, 2);
      const id = uniqueQueue('permits-reask');
      const h = await startEntity(env, taskQueue, id, entity(1), ask('r1', a));
      while (!(await h.query(permitStateQuery)).granted) await env.sleep(100);
      await h.signal(permitReleaseSignal, { requestId: 'r1' });
      // The requester's watchdog asked again before the grant reached it; the re-ask lands after the release.
      await h.signal(permitAskSignal, ask('r1', a));
      await h.signal(permitAskSignal, ask('r2', b));
      await env.sleep(1_000);
      const s = await h.query(permitStateQuery);
      expect(s.holders.map((x) => x.requestId)).toEqual(['r2']); // not r1 again, holding the one slot
      expect(s.waiting).toEqual([]);
      expect(s.granted).toBe(2);
      await h.signal(permitReleaseSignal, { requestId: 'r2' });
      await h.signal(permitDrainSignal);
      await h.result();
      for (const r of [a, b]) await stop(env, r);
    });
  });

  it('stays up while callers by update keep coming, and ends once they stop for its idle time', async () => {
    await withWorker(env, testDeps(), async (taskQueue) => {
      const id = uniqueQueue('permits-updates');
      const h = await env.client.workflow.start('permits', {
        taskQueue,
        workflowId: id,
        args: [
          {
            policy: { kind: 'tokenBucket', perSecond: 10, burst: 10 },
            leaseMs: 60_000,
            label: 'test rate',
            idleMs: 60_000,
          },
        ],
      });
      const firstRun = (await h.describe()).runId;
      // A call every 20 s for 3 minutes: nothing is ever held or waiting, yet the entity is in use.
      for (let i = 0; i < 9; i++) {
        const r = await h.executeUpdate(permitTryUpdate, {
          args: [{ requestId: `u${i}`, requesterId: 'an-activity' }],
        });
        expect(r).toHaveProperty('granted');
        await env.sleep(20_000);
      }
      const d = await h.describe();
      expect(d.status.name).toBe('RUNNING'); // it had ended 60 s after its start, between two calls
      expect(d.runId).toBe(firstRun);
      await env.sleep(70_000); // no more calls: idle for its idle time, it ends
      await h.result();
      expect((await h.describe()).status.name).toBe('COMPLETED');
    });
  });

  it('sends a grant again to a holder that asks as if not granted (its grant was lost with a terminated run)', async () => {
    await withWorker(env, testDeps(), async (taskQueue) => {
      const [a] = await requesters(env, taskQueue, 1);
      const id = uniqueQueue('permits-lost-grant');
      // Started as the request activity starts it after a termination: from the last state, whose holder r1 was
      // granted (and counted) by a run terminated before its grant signal was delivered.
      const now = await env.currentTimeMs(); // the server's clock (ahead of this process's)
      const state: PermitEntityState = {
        policy: initPolicy({ kind: 'concurrency', permits: 1 }, now),
        holders: [{ requestId: 'r1', requesterId: a, purpose: 'r1', grantedAt: now, leaseUntil: now + 60_000 }],
        waiting: [],
        granted: 1,
        peakHeld: 1,
      };
      const h = await startEntity(env, taskQueue, id, entity(1, { state, recovered: true }), ask('r1', a));
      const grants = async () =>
        (await env.client.workflow.getHandle(a).fetchHistory()).events!.filter(
          (e) => e.workflowExecutionSignaledEventAttributes?.signalName === permitGrantedSignal.name,
        ).length;
      for (let i = 0; i < 50 && !(await grants()); i++) await env.sleep(100);
      expect(await grants()).toBe(1); // without it the requester waits for its lease to end, then asks anew
      const s = await h.query(permitStateQuery);
      expect(s.holders.map((x) => x.requestId)).toEqual(['r1']);
      expect(s).toMatchObject({ granted: 1, waiting: [] }); // the same grant, not a second one
      await h.signal(permitReleaseSignal, { requestId: 'r1' });
      await h.signal(permitDrainSignal);
      await h.result();
      await stop(env, a);
    });
  });
});

/**
 * The permit entity terminated mid-use (an operator, a bad deploy) on the dev server: the next request starts
 * it again from its last state — its holder and its waiters — through the request activity's function.
 */
import { describe, expect, it } from 'vitest';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { permitDrainSignal, permitReleaseSignal, permitStateQuery } from '../../src/kit/limits/permits';
import { ask, entity, requesters, stop } from '../helpers/permits';
import { requestPermit } from '../../src/kit/activity/permits';
import { testDeps, uniqueQueue, useTemporalServer, withWorker } from '../helpers/temporal';

describe('the permit entity, terminated', () => {
  let env: TestWorkflowEnvironment;
  useTemporalServer('dev', (e) => (env = e));

  it('is started again from its last state after being terminated mid-use', async () => {
    await withWorker(env, testDeps(), async (taskQueue) => {
      const [a, b, c] = await requesters(env, taskQueue, 3);
      const id = uniqueQueue('permits-restart');
      const start = (requestId: string, requesterId: string) =>
        requestPermit(env.client, taskQueue, { entityId: id, entity: entity(1), ask: ask(requestId, requesterId) });
      await start('r1', a);
      await start('r2', b);
      // Once the entity has taken both in (a request it had not processed when terminated is not in its last
      // state: the requester's re-ask, every 5 minutes, brings it back).
      while ((await env.client.workflow.getHandle(id).query(permitStateQuery)).waiting.length < 1)
        await new Promise((r) => setTimeout(r, 50));
      await env.client.workflow.getHandle(id).terminate('operator');
      await start('r3', c);
      const h = env.client.workflow.getHandle(id);
      const s = await h.query(permitStateQuery);
      expect(s.holders.map((x) => x.requestId)).toEqual(['r1']);
      expect(s.waiting.map((x) => x.requestId)).toEqual(['r2', 'r3']);
      for (const r of ['r1', 'r2', 'r3']) {
        await h.signal(permitReleaseSignal, { requestId: r });
        await new Promise((r) => setTimeout(r, 300));
      }
      // The last grant follows the last release (a workflow task; the test server may take a moment).
      for (let i = 0; i < 100 && (await h.query(permitStateQuery)).granted < 3; i++)
        await new Promise((r) => setTimeout(r, 100));
      expect((await h.query(permitStateQuery)).granted).toBe(3);
      await h.signal(permitDrainSignal);
      await h.result();
      for (const r of [a, b, c]) await stop(env, r);
    });
  });
});

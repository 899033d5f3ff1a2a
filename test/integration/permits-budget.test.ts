/**
 * The permit entity's history budget on the dev server: 1,000 permits asked, granted (each grant signalled to
 * its requester) and released, in waves of 100, with the entity continuing as new past 700 events. Every
 * run must stay within Temporal's warning thresholds (test/helpers/history-budget.ts) and within one wave of
 * its limit — its default limit, 8,000 events, is under them — carrying its count, and serve every permit.
 * The entity grants one permit per workflow task (the grant's signal is awaited), ~10 a second here under
 * this load: 2,000 permits took 203 s (10 runs, the largest 1,670 events past a 1,500 limit), 10,000 would take
 * 15 minutes, too long for the suite. Before the limit was also checked between grants, one run grew to 14,066
 * events past a 1,500 limit under this constant traffic. (On the time-skipping server, bursts of signals across
 * a continue-as-new stalled the Java test server for minutes: this one runs on the real server.)
 */
import { describe, expect, it } from 'vitest';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import {
  permitAskSignal,
  permitDrainSignal,
  permitReleaseSignal,
  permitStateQuery,
} from '../../src/kit/limits/permits';
import { ask, entity, requesters, startEntity, stop } from '../helpers/permits';
import { chainSizes, expectWithinBudget } from '../helpers/history-budget';
import { testDeps, uniqueQueue, useTemporalServer, withWorker } from '../helpers/temporal';

describe('the permit entity, 1,000 permits', () => {
  let env: TestWorkflowEnvironment;
  useTemporalServer('dev', (e) => (env = e));

  it('serves them all and continues as new within the history budget', { timeout: 400_000 }, async () => {
    const N = 1_000;
    const WAVE = 100;
    const HISTORY_LIMIT = 700;
    await withWorker(env, testDeps(), async (taskQueue) => {
      const reqs = await requesters(env, taskQueue, 20);
      const id = uniqueQueue('permits-budget');
      const h = await startEntity(
        env,
        taskQueue,
        id,
        entity(WAVE, { historyLimit: HISTORY_LIMIT }),
        ask('p0', reqs[0]),
      );
      const firstRunId = h.signaledRunId;
      const t0 = Date.now();
      for (let from = 0; from < N; from += WAVE) {
        const wave = Array.from({ length: WAVE }, (_, k) => from + k);
        await Promise.all(
          wave.filter((i) => i > 0).map((i) => h.signal(permitAskSignal, ask(`p${i}`, reqs[i % reqs.length]))),
        );
        // Released once held (a release that overtook its grant would cancel the request instead).
        for (let t = 0; ; t++) {
          // A query the busy worker did not answer in time is asked again.
          const st = await h.query(permitStateQuery).catch(() => ({ holders: [], waiting: [] }));
          if (st.holders.length === WAVE) break;
          if (t > 1200) throw new Error(`wave ${from}: ${st.holders.length} held, ${st.waiting.length} waiting`);
          await new Promise((r) => setTimeout(r, 50));
        }
        await Promise.all(wave.map((i) => h.signal(permitReleaseSignal, { requestId: `p${i}` })));
      }
      const s = await h.query(permitStateQuery);
      expect(s).toMatchObject({ granted: N, holders: [], waiting: [] });
      console.log(`[history budget] permit entity: ${N} permits in ${((Date.now() - t0) / 1000).toFixed(0)} s`);
      await h.signal(permitDrainSignal);
      await h.result();
      for (const r of reqs) await stop(env, r);
      const runs = await chainSizes(env, id, firstRunId);
      expectWithinBudget('permit entity, 1,000 permits', runs, 3);
      for (const r of runs) expect(r.events).toBeLessThanOrEqual(HISTORY_LIMIT + 4 * WAVE);
    });
  });
});

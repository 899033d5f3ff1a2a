import { sleep, workflowInfo } from '@temporalio/workflow';
import type { SelftestActivities } from '../activities/selftest';
import { selftestInput, selftestPipeline, type SelftestInput, type SelftestResult } from '../definition';
import { formatDuration } from '../../../shared/durations';
import { describedActivities, ProgressTracker, validateInput, workflowNow } from '../../../kit/workflow';

const activities = describedActivities<SelftestActivities>({
  startToCloseTimeout: '1 minute',
  retry: { initialInterval: '1s', backoffCoefficient: 2, maximumAttempts: 5 },
});

export async function selftest(rawInput: SelftestInput): Promise<SelftestResult> {
  const input = validateInput(selftestInput, rawInput);
  const progress = new ProgressTracker('selftest', 'steps', 2);
  progress.set({
    phase: 'sleeping',
    waiting: { reason: 'durable timer', until: new Date(workflowNow() + input.sleep).toISOString() },
  });
  const t0 = workflowNow();
  await sleep(input.sleep, { summary: `selftest: durable timer of ${formatDuration(input.sleep)}` });
  progress.set({ phase: 'writing', done: 1 });
  const written = await activities(`write a warehouse row and a bucket object (label ${input.label})`).selftestWrite({
    runId: workflowInfo().runId,
    label: input.label,
    sleptMs: workflowNow() - t0,
  });
  progress.set({ phase: 'done', done: 2 });
  const result = { runId: workflowInfo().runId, sleptMs: workflowNow() - t0, ...written };
  progress.finish(selftestPipeline.summarize(result));
  return result;
}

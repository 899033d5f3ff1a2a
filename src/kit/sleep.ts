/**
 * Durable waits until a moment the API named (a quota reset, a Retry-After): one helper for every workflow
 * that sleeps on a "wait until" answer. Workflow-safe.
 */
import { sleep } from '@temporalio/workflow';

/** Slept past the moment, so that a reset computed to the second has happened on the API's clock too. */
export const RESET_MARGIN_MS = 1000;

/**
 * Sleeps (a durable timer: a worker restart or a deploy does not shorten or lose it) until `untilMs` on the
 * workflow clock, plus `marginMs`; only the margin if that moment has passed. `summary` is the timer's line on
 * the Web UI timeline.
 */
export function sleepUntil(untilMs: number, summary: string, marginMs = RESET_MARGIN_MS): Promise<void> {
  return sleep(Math.max(0, untilMs - new Date().getTime()) + marginMs, { summary });
}

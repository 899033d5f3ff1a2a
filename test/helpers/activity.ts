/**
 * Activity info for MockActivityEnvironment that a real attempt would have: scheduled now, with the
 * start-to-close timeout of a long activity. The mock's defaults (scheduled at epoch + 1 ms, 1 s timeout) make
 * every attempt look past its deadline to `assertAttemptLive` (src/kit/activity/heartbeat.ts).
 */
export const liveAttempt = () => ({
  scheduledTimestampMs: Date.now(),
  currentAttemptScheduledTimestampMs: Date.now(),
  startToCloseTimeoutMs: 2 * 3_600_000,
});

/**
 * On the time-skipping server, time skips to the next deadline whenever nobody holds its time lock (a client
 * awaiting a result unlocks it). Like the Java SDK's test environment, an activity holds the lock while it
 * runs, so real I/O inside an activity never sees its own timeouts fire early. Used by the tests and by
 * `longhaul simulate` (an API call then takes no virtual time beyond its real duration).
 */
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { ActivityInterceptorsFactory } from '@temporalio/worker';

export function timeLockActivities(env: TestWorkflowEnvironment): ActivityInterceptorsFactory[] {
  const ts = env.connection.testService;
  if (!env.supportsTimeSkipping || !ts) return [];
  return [
    () => ({
      inbound: {
        async execute(input, next) {
          await ts.lockTimeSkipping({});
          try {
            return await next(input);
          } finally {
            await ts.unlockTimeSkipping({});
          }
        },
      },
    }),
  ];
}

/**
 * On the time-skipping server, time skips to the next deadline whenever nobody holds its time lock (a client
 * awaiting a result unlocks it). Like the Java SDK's test environment, an activity holds the lock while it
 * runs, so real I/O inside an activity never sees its own timeouts fire early. Used by the tests and by
 * `longhaul simulate` (an API call then takes no virtual time beyond its real duration).
 */
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { ActivityInterceptorsFactory } from '@temporalio/worker';

export function timeLockActivities(env: TestWorkflowEnvironment, clock?: LockedClock): ActivityInterceptorsFactory[] {
  const ts = env.connection.testService;
  if (!env.supportsTimeSkipping || !ts) return [];
  return [
    () => ({
      inbound: {
        async execute(input, next) {
          await ts.lockTimeSkipping({});
          clock?.locked();
          try {
            return await next(input);
          } finally {
            clock?.unlocking();
            await ts.unlockTimeSkipping({});
          }
        },
      },
    }),
  ];
}

/**
 * The test server's clock as the sandboxes read it, without asking the server on every API call: while an
 * activity of this process holds the time lock, virtual time cannot skip, only pass as real time does — so
 * one reading of the server's clock, plus the real time elapsed since, is its time until the lock is let go
 * (read again after). Outside a lock every reading asks the server. A 631,348-ID simulation makes 12,627
 * calls, each read the clock twice.
 */
export class LockedClock {
  private held = 0;
  /** Times the lock was let go: a reading taken across one of them may predate a skip. */
  private releases = 0;
  private base?: { virtual: number; real: number };

  constructor(private readonly env: TestWorkflowEnvironment) {}

  /** An activity holds the lock (called once the server has it locked). */
  locked(): void {
    this.held++;
  }

  /** An activity is about to let the lock go: from the last one, time may skip again. */
  unlocking(): void {
    this.held--;
    if (this.held === 0) {
      this.releases++;
      this.base = undefined;
    }
  }

  async now(): Promise<number> {
    if (this.held > 0 && this.base) return this.base.virtual + (Date.now() - this.base.real);
    const { held, releases } = this;
    const virtual = await this.env.currentTimeMs();
    // Kept only if the lock was held through the reading (a skip cannot have come between), and only the first
    // of concurrent readings (a later-finishing older one must not move the clock back).
    if (held > 0 && releases === this.releases && !this.base) this.base = { virtual, real: Date.now() };
    return virtual;
  }
}

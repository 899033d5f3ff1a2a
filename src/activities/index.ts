/** Every activity the worker registers, built from injected dependencies. */
import type { Deps } from './deps';
import { createSelftestActivities } from './selftest';
import { createTiteliveActivities } from './titelive';
import { createSemaphoreActivities } from './semaphore';

export function createActivities(deps: Deps) {
  return {
    ...createSelftestActivities(deps),
    ...createTiteliveActivities(deps),
    ...createSemaphoreActivities(),
  };
}

export type Activities = ReturnType<typeof createActivities>;

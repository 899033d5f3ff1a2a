/** Every activity the worker registers, built from injected dependencies. */
import type { Deps } from './deps';
import { createSelftestActivities } from './selftest';

export function createActivities(deps: Deps) {
  return {
    ...createSelftestActivities(deps),
  };
}

export type Activities = ReturnType<typeof createActivities>;

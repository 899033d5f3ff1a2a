/**
 * Every activity the main worker registers, built from injected dependencies: the kit's (the permit entity's
 * and the semaphore's requests) and each API's (src/pipelines/apis.ts), one group per API. A name defined twice stops the worker at
 * start (mergeActivities), naming the activity and both groups.
 */
import { mergeActivities } from '../kit/activity/registry';
import { createSemaphoreActivities } from '../kit/activity/semaphore';
import { createPermitActivities } from '../kit/activity/permits';
import { APIS } from '../pipelines/apis';
import type { Deps } from './deps';

export function createActivities(deps: Deps) {
  return mergeActivities({
    semaphore: createSemaphoreActivities(),
    permits: createPermitActivities(),
    ...Object.fromEntries(APIS.map((api) => [api.name, api.activities?.(deps) ?? {}])),
  });
}

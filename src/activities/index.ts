/**
 * Every activity the main worker registers, built from injected dependencies: the kit's (the semaphore's
 * and the rate window's requests) and each API's (src/pipelines/apis.ts), one group per API. A name defined twice stops the worker at
 * start (mergeActivities), naming the activity and both groups.
 */
import { mergeActivities } from '../kit/activity/registry';
import { createSemaphoreActivities } from '../kit/activity/semaphore';
import { createRateWindowActivities } from '../kit/activity/rate-window';
import { APIS } from '../pipelines/apis';
import type { Deps } from './deps';

export function createActivities(deps: Deps) {
  return mergeActivities({
    semaphore: createSemaphoreActivities(),
    rateWindow: createRateWindowActivities(),
    ...Object.fromEntries(APIS.map((api) => [api.name, api.activities?.(deps) ?? {}])),
  });
}

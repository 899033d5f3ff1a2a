/** Every activity the worker registers, built from injected dependencies. */
import { mergeActivities } from '../kit/activity/registry';
import type { Deps } from './deps';
import { createDailymotionActivities } from './dailymotion';
import { createSelftestActivities } from './selftest';
import { createTiteliveActivities } from './titelive';
import { createSemaphoreActivities } from './semaphore';
import { createYoutubeActivities } from './youtube';
import { createDatoramaActivities } from './datorama';
import { youtubeWatchActivities, type WithVideosStore } from './youtube-watch';

export function createActivities(deps: Deps & WithVideosStore) {
  // One group per API; a name defined twice stops the worker at start (mergeActivities).
  return mergeActivities({
    selftest: createSelftestActivities(deps),
    titelive: createTiteliveActivities(deps),
    semaphore: createSemaphoreActivities(),
    dailymotion: createDailymotionActivities(deps),
    youtube: createYoutubeActivities(deps),
    datorama: createDatoramaActivities(deps),
    'youtube-watch': youtubeWatchActivities(deps),
  });
}

export type Activities = ReturnType<typeof createActivities>;

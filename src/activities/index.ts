/** Every activity the worker registers, built from injected dependencies. */
import type { Deps } from './deps';
import { createDailymotionActivities } from './dailymotion';
import { createSelftestActivities } from './selftest';
import { createTiteliveActivities } from './titelive';
import { createSemaphoreActivities } from './semaphore';
import { createYoutubeActivities } from './youtube';
import { createDatoramaActivities } from './datorama';
import { youtubeWatchActivities, type WithVideosStore } from './youtube-watch';

export function createActivities(deps: Deps & WithVideosStore) {
  return {
    ...createSelftestActivities(deps),
    ...createTiteliveActivities(deps),
    ...createSemaphoreActivities(),
    ...createDailymotionActivities(deps),
    ...createYoutubeActivities(deps),
    ...createDatoramaActivities(deps),
    ...youtubeWatchActivities(deps),
  };
}

export type Activities = ReturnType<typeof createActivities>;

/** Every activity the worker registers, built from injected dependencies. */
import { mergeActivities } from '../kit/activity/registry';
import type { Deps } from './deps';
import { createDailymotionActivities } from '../pipelines/dailymotion/activities/report';
import { createSelftestActivities } from '../pipelines/selftest/activities/selftest';
import { createTiteliveActivities } from '../pipelines/titelive/activities/titelive';
import { createSemaphoreActivities } from '../kit/activity/semaphore';
import { createYoutubeActivities } from '../pipelines/youtube/activities/enrich';
import { createDatoramaActivities } from '../pipelines/datorama/activities/main';
import { youtubeWatchActivities, type WithVideosStore } from '../pipelines/youtube/activities/watch';

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

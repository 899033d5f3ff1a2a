/** YouTube's Node side (src/pipelines/api.ts): enrichment and the watcher, their activities, the sandbox. */
import { mergeActivities } from '../../kit/activity/registry';
import { defineApi } from '../api';
import * as workflows from './workflows';
import type { PipelineDef } from '../types';
import { youtubeEnrichPipeline } from './enrich';
import { youtubeWatchPipeline } from './watch';
import { createYoutubeActivities } from './activities/enrich';
import { youtubeWatchActivities } from './activities/watch';
import { youtubeSandbox } from './sandbox';

export const youtubeApi = defineApi({
  name: 'youtube',
  workflows,
  pipelines: [youtubeEnrichPipeline as PipelineDef, youtubeWatchPipeline as PipelineDef],
  activities: (deps) =>
    mergeActivities({ 'youtube-enrich': createYoutubeActivities(deps), 'youtube-watch': youtubeWatchActivities(deps) }),
  sandbox: youtubeSandbox,
});

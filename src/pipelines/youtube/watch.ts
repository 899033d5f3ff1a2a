/**
 * `youtube-watch`: a long-running watcher per search query — every `intervalSeconds` it asks YouTube's
 * search.list for the videos published since the newest one stored and upserts them into the videos store
 * (read by `longhaul api`), within the search quota of the configured projects. The input schema, messages
 * and ID live in src/pipelines/youtube/watch-shared.ts (shared with the workflow and the activities).
 * `longhaul run youtube-watch --query cricket`; `longhaul status youtube-watch-cricket-<hash>`.
 */
import { watchWorkflowId, youtubeWatchInput, type YoutubeWatchResult } from './watch-shared';
import { definePipeline, type WorkflowOf } from '../types';
import { youtubeAccount } from './enrich';
import type * as workflows from './workflows';

export const youtubeWatchPipeline = definePipeline({
  name: 'youtube-watch',
  description:
    'Newest YouTube videos for a search query, every N seconds, into the videos store (runs until cancelled)',
  input: youtubeWatchInput,
  workflowType: 'youtubeWatch' satisfies WorkflowOf<typeof workflows>,
  workflowId: (i) => watchWorkflowId(i.query),
  account: youtubeAccount,
  range: (i) => ({ start: i.backfillFrom }),
  describeInput: (i) =>
    `YouTube watcher for "${i.query}": every ${i.intervalSeconds} s` +
    `${i.backfillFrom ? `, back to ${i.backfillFrom}` : ''} → the videos store`,
  summarize: (r: YoutubeWatchResult) =>
    `"${r.query}": ${r.ticks} ticks (${r.failedTicks} failed), ${r.inserted} videos inserted, ${r.merged} merged, ` +
    `${r.videosStored} stored; ${r.calls} search calls, ${r.units} units, ${r.quotaWaits} quota waits`,
  example: { query: 'cricket', intervalSeconds: 10, backfillFrom: '2026-11-01' },
});

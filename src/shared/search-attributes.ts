/**
 * Search attributes longhaul sets, so runs can be filtered in the Web UI and by `longhaul list`:
 * `LonghaulPipeline` (set by the client at start) and `LonghaulState` (running | waiting | done | failed,
 * upserted by the workflow as it goes). Registered by `longhaul dev` / the test setup on the dev server; on
 * another server: `temporal operator search-attribute create --name LonghaulPipeline --type Keyword` (and
 * LonghaulState).
 */
import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';

export const PIPELINE_ATTRIBUTE = defineSearchAttributeKey('LonghaulPipeline', SearchAttributeType.KEYWORD);
export const STATE_ATTRIBUTE = defineSearchAttributeKey('LonghaulState', SearchAttributeType.KEYWORD);

export const RUN_STATES = ['running', 'waiting', 'done', 'failed'] as const;
export type RunState = (typeof RUN_STATES)[number];

/** `--search-attribute` flags for `temporal server start-dev`. */
export const SEARCH_ATTRIBUTE_FLAGS = ['LonghaulPipeline=Keyword', 'LonghaulState=Keyword'].flatMap((a) => [
  '--search-attribute',
  a,
]);

/**
 * Search attributes longhaul sets, so runs can be filtered in the Web UI and by `longhaul list`:
 * - `LonghaulPipeline` (Keyword): the pipeline, set by the client at start (and by schedules);
 * - `LonghaulState` (Keyword): running | waiting | done | failed, upserted by the workflow as it goes;
 * - `LonghaulAccount` (Keyword): the source account's fingerprint (Dailymotion account, Datorama token,
 *   YouTube key pool, Titelive login), set by the client when its configuration names one;
 * - `LonghaulRangeStart` / `LonghaulRangeEnd` (Datetime): the data's date range, when the input has one.
 * Registered by `longhaul dev` / the test setup on the dev server (`--search-attribute`), and on any other
 * server by `longhaul search-attributes` (docker-compose runs it once before the worker starts).
 */
import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';

export const PIPELINE_ATTRIBUTE = defineSearchAttributeKey('LonghaulPipeline', SearchAttributeType.KEYWORD);
export const STATE_ATTRIBUTE = defineSearchAttributeKey('LonghaulState', SearchAttributeType.KEYWORD);
export const ACCOUNT_ATTRIBUTE = defineSearchAttributeKey('LonghaulAccount', SearchAttributeType.KEYWORD);
export const RANGE_START_ATTRIBUTE = defineSearchAttributeKey('LonghaulRangeStart', SearchAttributeType.DATETIME);
export const RANGE_END_ATTRIBUTE = defineSearchAttributeKey('LonghaulRangeEnd', SearchAttributeType.DATETIME);

/** Every attribute longhaul uses: name → the type name of `temporal operator search-attribute create`. */
export const SEARCH_ATTRIBUTES = {
  LonghaulPipeline: 'Keyword',
  LonghaulState: 'Keyword',
  LonghaulAccount: 'Keyword',
  LonghaulRangeStart: 'Datetime',
  LonghaulRangeEnd: 'Datetime',
} as const;

export const RUN_STATES = ['running', 'waiting', 'done', 'failed'] as const;
export type RunState = (typeof RUN_STATES)[number];

/** `--search-attribute` flags for `temporal server start-dev`. */
export const SEARCH_ATTRIBUTE_FLAGS = Object.entries(SEARCH_ATTRIBUTES).flatMap(([name, type]) => [
  '--search-attribute',
  `${name}=${type}`,
]);

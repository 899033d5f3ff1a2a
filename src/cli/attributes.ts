/**
 * The search attributes the client sets on a run at start (docs/operations.md, Search attributes): the
 * pipeline, the source account's fingerprint when the configuration names one, and the data's date range
 * when the input has one — so `longhaul list --account … --from … --to …` and the Web UI can find runs.
 */
import type { SearchAttributePair } from '@temporalio/common';
import type { Config } from '../config';
import type { PipelineDef } from '../pipelines/types';
import { dayEdge, isoDate, isRelativeDay } from '../shared/dates';
import { accountOf } from '../node/account';
import {
  ACCOUNT_ATTRIBUTE,
  PIPELINE_ATTRIBUTE,
  RANGE_END_ATTRIBUTE,
  RANGE_START_ATTRIBUTE,
} from '../shared/search-attributes';

/** The data's date range [start, end] (ISO dates or instants) a run covers, from its validated input. */
export function rangeOf(pipeline: PipelineDef, input: unknown): { start?: string; end?: string } {
  return pipeline.range?.(input) ?? {};
}

/** An ISO date is the whole day: its start for a range start, its last millisecond for a range end. */
function instant(v: string, edge: 'start' | 'end'): Date | undefined {
  if (isoDate.safeParse(v).success) return dayEdge(v, edge);
  // An instant (youtube-watch's backfillFrom); a relative day is left out (V8 parses "today-2" as a year).
  const t = Date.parse(v);
  return Number.isNaN(t) || isRelativeDay(v) ? undefined : new Date(t);
}

/** The typed search attributes for a run of `pipeline` with `input`. */
export function runAttributes(pipeline: PipelineDef, input: unknown, config?: Config): SearchAttributePair[] {
  const out: SearchAttributePair[] = [{ key: PIPELINE_ATTRIBUTE, value: pipeline.name }];
  const account = config && accountOf(pipeline, config);
  if (account) out.push({ key: ACCOUNT_ATTRIBUTE, value: account });
  const { start, end } = rangeOf(pipeline, input);
  const s = start && instant(start, 'start');
  const e = end && instant(end, 'end');
  if (s) out.push({ key: RANGE_START_ATTRIBUTE, value: s });
  if (e) out.push({ key: RANGE_END_ATTRIBUTE, value: e });
  return out;
}

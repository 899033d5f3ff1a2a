/**
 * The search attributes the client sets on a run at start (docs/operations.md, Search attributes): the
 * pipeline, the source account's fingerprint when the configuration names one, and the data's date range
 * when the input has one — so `longhaul list --account … --from … --to …` and the Web UI can find runs.
 */
import type { SearchAttributePair } from '@temporalio/common';
import type { Config } from '../config';
import { DailymotionClient } from '../connectors/dailymotion/client';
import type { PipelineDef } from '../pipelines/types';
import { dayEdge, isoDate, isRelativeDay } from '../shared/dates';
import { fingerprint } from '../shared/fingerprint';
import {
  ACCOUNT_ATTRIBUTE,
  PIPELINE_ATTRIBUTE,
  RANGE_END_ATTRIBUTE,
  RANGE_START_ATTRIBUTE,
} from '../shared/search-attributes';

type Input = Record<string, unknown>;

/** The API account a run works for, as a fingerprint (never the secret), when the configuration names one. */
export function accountOf(pipeline: PipelineDef, config: Config): string | undefined {
  const family = pipeline.name.split('-')[0];
  switch (family) {
    case 'dailymotion':
      return config.DM_ACCOUNT || config.DM_CLIENT_API ? DailymotionClient.accountKey(config) : undefined;
    case 'datorama':
      return config.DATORAMA_TOKEN ? fingerprint(config.DATORAMA_TOKEN) : undefined;
    case 'youtube':
      return config.YOUTUBE_API_KEYS?.length ? fingerprint([...config.YOUTUBE_API_KEYS].sort().join(',')) : undefined;
    case 'titelive':
      return config.TITELIVE_USERNAME ? fingerprint(config.TITELIVE_USERNAME) : undefined;
    default:
      return undefined;
  }
}

const str = (v: unknown) => (typeof v === 'string' && v ? v : undefined);

/** The data's date range [start, end] (ISO dates or instants) a run covers, from its validated input. */
export function rangeOf(pipeline: PipelineDef, input: unknown): { start?: string; end?: string } {
  const i = (input && typeof input === 'object' ? input : {}) as Input;
  switch (pipeline.name) {
    case 'dailymotion-report':
      return { start: str(i.startDate), end: str(i.endDate) };
    case 'datorama-process': {
      const ranges = [
        ...((i.ranges as { start: string; end: string }[] | undefined) ?? []),
        ...(str(i.start) && str(i.end) ? [{ start: i.start as string, end: i.end as string }] : []),
      ];
      if (!ranges.length) return {};
      return {
        start: ranges.map((r) => r.start).reduce((a, b) => (b < a ? b : a)),
        end: ranges.map((r) => r.end).reduce((a, b) => (b > a ? b : a)),
      };
    }
    case 'titelive':
      return { start: str(i.minModifiedDate), end: str(i.maxModifiedDate) };
    case 'youtube-watch':
      return { start: str(i.backfillFrom) };
    default:
      return {};
  }
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

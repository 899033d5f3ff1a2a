/**
 * youtube-watch: one tick of a watcher — search.list (type=video, order=date) for the videos published since
 * the watcher's cursor (minus an overlap, for videos the API indexes late; the first tick without one: the newest
 * page published in the overlap before the tick's time — publishedAfter is always sent), page after page until a page
 * reaches the cursor, the results run out, or `maxPages` is reached — results that run out at the API's cap of
 * about 500 per query (YOUTUBE_SEARCH_RESULT_CAP) are not the end: the walk goes on below the oldest video
 * it reached (a narrower window), so no video is silently skipped; every page is upserted into the videos
 * store (known videos are merged, never stored twice) and the activity heartbeats. Keys come from the quota
 * ledger one call at a time, charged by the watcher's quota model: quotaExceeded parks the key's project
 * until its reset and the next project is tried; keyInvalid takes the key out of the pool; when the ledger
 * says every project is spent, the tick hands the reset time back to the workflow, which sleeps on a durable
 * timer. Only the new position and counts return to the workflow. Idempotent: the same tick again stores
 * nothing new and returns the same position; a retried attempt resumes below the pages it already stored.
 */
import { Context } from '@temporalio/activity';
import type { Config } from '../../../config';
import { createYoutubeClient, type YoutubeClient } from '../connector/client';
import { parseYoutubeKeys } from '../connector/keys';
import type { SearchResult } from '../connector/schemas';
import { createVideosStore } from '../../../sinks/videos';
import type { VideosStore, VideoUpsert } from '../../../sinks/videos-store';
import { ledgerWorkflowId } from '../../../kit/limits/quota';
import { SEARCH_METHOD, type WatchPosition } from '../watch-shared';
import type { Deps } from '../../../activities/deps';
import { checkpointedPages } from '../../../kit/activity/pages';
import { QuotaLedgerClient } from '../../../kit/activity/quota-ledger';
import { YoutubeKeyedCalls } from './keyed-calls';
import { youtubeLedgerConfig } from './fetch';

export interface WatchTickArgs {
  query: string;
  position: WatchPosition;
  /** `backfillFrom` (ISO): the lower bound of the first sweep when there is no cursor yet. */
  floor?: string;
  overlapSeconds: number;
  maxPages: number;
  pageSize: number;
  pool: string;
  unitsPerDay: number;
  costPerCall: number;
  /** The watcher's workflow ID (ledger logs). */
  requester: string;
  /** The tick's workflow time (ISO): the store's `seenAt`. */
  seenAt: string;
}

/** What a tick did: pages read, videos fetched / new / merged, calls and quota units spent, keys found bad. */
export interface TickCounts {
  pages: number;
  fetched: number;
  inserted: number;
  merged: number;
  calls: number;
  units: number;
  quotaExceeded: number;
  invalidKeys: string[];
  keyFingerprint?: string;
  /** Walks that hit the API's result cap and could not be narrowed (results all of one instant): reported. */
  gaps?: number;
}

export interface WatchTickResult extends TickCounts {
  /** `wait`: the ledger says every project is spent until `until` (epoch ms); the pages before it count. */
  status: 'done' | 'wait';
  until?: number;
  waitReason?: string;
  /** The sweep reached the cursor (or the end of the results): the cursor moved to the newest video seen. */
  reached: boolean;
  position: WatchPosition;
  /** Videos of this query in the store after the tick. */
  videosStored: number;
}

/** What a tick has done so far: its heartbeat, from which a retried attempt resumes. */
interface TickProgress extends TickCounts {
  /** Newest and oldest publish time seen by the tick (API strings). */
  newest?: string;
  oldest?: string;
}

const ms = (iso: string) => Date.parse(iso);
const later = (a: string | undefined, b: string | undefined) => (!a ? b : !b ? a : ms(b) > ms(a) ? b : a);
const earlier = (a: string | undefined, b: string | undefined) => (!a ? b : !b ? a : ms(b) < ms(a) ? b : a);
const rfc3339 = (epochMs: number) => new Date(epochMs).toISOString().replace('.000Z', 'Z');

/** A search result as a store row (thumbnail URLs by size; the raw item kept as the API sent it). */
export function toUpsert(item: SearchResult, query: string, seenAt: string): VideoUpsert | undefined {
  const videoId = item.id.videoId;
  const s = item.snippet as
    | (NonNullable<SearchResult['snippet']> & {
        description?: string;
        channelTitle?: string;
        thumbnails?: Record<string, { url?: string }>;
      })
    | undefined;
  if (!videoId || !s) return undefined;
  const thumbnails: Record<string, string> = {};
  for (const [size, t] of Object.entries(s.thumbnails ?? {})) if (t?.url) thumbnails[size] = t.url;
  return {
    videoId,
    query,
    title: s.title,
    description: s.description ?? '',
    publishedAt: s.publishedAt,
    channelId: s.channelId,
    channelTitle: s.channelTitle ?? '',
    thumbnails,
    raw: item,
    seenAt,
  };
}

export interface WatchDeps {
  config: Config;
  client: YoutubeClient;
  /** The videos store, opened on first use (one per worker process). */
  videos: () => Promise<VideosStore>;
}

export function createYoutubeWatchActivities(deps: WatchDeps) {
  const { config, client } = deps;
  const CAP = config.YOUTUBE_SEARCH_RESULT_CAP;
  const keys = new Map(parseYoutubeKeys(config.YOUTUBE_API_KEYS).map((k) => [k.fingerprint, k]));
  return {
    async youtubeWatchTick(args: WatchTickArgs): Promise<WatchTickResult> {
      const ctx = Context.current();
      const store = await deps.videos();
      const hb = ctx.info.heartbeatDetails as TickProgress | undefined;
      const acc: TickProgress = hb ?? {
        pages: 0,
        fetched: 0,
        inserted: 0,
        merged: 0,
        calls: 0,
        units: 0,
        quotaExceeded: 0,
        invalidKeys: [],
      };

      // A watcher without a position (first start, or restarted after its history was lost) takes the
      // newest video the store holds for its query — unless it was asked to backfill.
      let pos = args.position;
      if (!pos.cursor && !pos.sweep && !args.floor) {
        const stored = await store.newestPublishedAt(args.query);
        if (stored) pos = { cursor: stored };
      }
      // No cursor and no backfill date: the newest page of the overlap before the tick's time only, and the
      // cursor starts there. `publishedAfter` is always sent (without it the API serves cached, older results):
      // here the tick's time minus the overlap. Bounded by the tick's time, a retried attempt (its predecessor
      // died between the answer and the write) asks for the same page, not a newer one that would skip the
      // videos the first answer served; what was published since is the next tick's.
      const firstPageOnly = !pos.cursor && !pos.sweep && !args.floor;
      const publishedAfter = pos.cursor
        ? rfc3339(ms(pos.cursor) - args.overlapSeconds * 1000)
        : args.floor
          ? rfc3339(ms(args.floor))
          : rfc3339(ms(args.seenAt) - args.overlapSeconds * 1000);
      // Continuing a sweep (or a retried attempt): below the oldest video already stored by it.
      let publishedBefore = acc.oldest ?? pos.sweep?.before ?? (firstPageOnly ? rfc3339(ms(args.seenAt)) : undefined);
      // Results the current walk (one query: its first page and the pages of its tokens) has returned: the API
      // serves about 500 per query, so a walk that runs out near that many has not reached the window's end.
      let walked = 0;
      const capped = () => walked >= Math.min(CAP - args.pageSize, Math.floor(CAP * 0.9));

      const ledger = new QuotaLedgerClient(ctx.client, ledgerWorkflowId(args.pool), ctx.info.taskQueue, {
        ...youtubeLedgerConfig(config, args.unitsPerDay, args.costPerCall),
        costs: { [SEARCH_METHOD]: args.costPerCall },
      });
      ledger.onRetry = () => ctx.heartbeat(acc);
      const calls = new YoutubeKeyedCalls(ledger, keys, {
        method: SEARCH_METHOD,
        requester: args.requester,
        who: 'YouTube watcher',
        warn: (m) => ctx.log.warn(m),
        onCall: (fp) => (acc.keyFingerprint = fp),
        onNotServed: (fp, why, reason) => {
          if (why === 'quota') acc.quotaExceeded++;
          else acc.invalidKeys.push(`${fp}: ${reason}`);
        },
      });

      const finish = async (status: 'done' | 'wait', reached: boolean, wait?: { until: number; reason: string }) => {
        const top = later(pos.sweep?.top, acc.newest);
        let position: WatchPosition;
        if (reached) position = { cursor: later(pos.cursor, top) };
        else if (acc.oldest && top) position = { cursor: pos.cursor, sweep: { top, before: acc.oldest } };
        else position = pos;
        if (!position.cursor) delete position.cursor;
        return {
          status,
          ...(wait ? { until: wait.until, waitReason: wait.reason } : {}),
          reached,
          position,
          ...acc,
          videosStored: await store.count({ query: args.query }),
        } satisfies WatchTickResult;
      };

      let pageToken: string | undefined;
      // The tick's progress (`acc`, resumed from the heartbeat above) is the checkpoint: each page is stored,
      // then heartbeated; a retried attempt walks again below the oldest video stored.
      return checkpointedPages<TickProgress, WatchTickResult>({
        what: `youtube-watch "${args.query}"`,
        initial: acc,
        newer: () => false,
        async page() {
          if (acc.pages >= args.maxPages) return { stop: await finish('done', false) };
          // One permit per call: a page is one search.list call.
          const r = await calls.call(1, (key) =>
            client.searchList(
              {
                q: args.query,
                order: 'date',
                maxResults: args.pageSize,
                publishedAfter,
                publishedBefore,
                pageToken,
              },
              key,
            ),
          );
          if (r.kind === 'wait') return { stop: await finish('wait', false, { until: r.until, reason: r.reason }) };
          const page = r.value;
          acc.calls++;
          acc.units += args.costPerCall;
          const rows = page.items
            .map((item) => toUpsert(item, args.query, args.seenAt))
            .filter((v): v is VideoUpsert => v !== undefined);
          if (rows.length) {
            const u = await store.upsert(rows);
            acc.inserted += u.inserted;
            acc.merged += u.merged;
          }
          acc.pages++;
          acc.fetched += rows.length;
          for (const v of rows) {
            acc.newest = later(acc.newest, v.publishedAt);
            acc.oldest = earlier(acc.oldest, v.publishedAt);
          }
          walked += page.items.length;
          if (firstPageOnly) return { stop: await finish('done', true) };
          // Results come newest first: a page whose oldest video is at or before the cursor has reached the
          // videos stored by earlier ticks (what follows is the overlap, already seen).
          const last = rows.at(-1);
          if (pos.cursor && last && ms(last.publishedAt) <= ms(pos.cursor)) return { stop: await finish('done', true) };
          if (page.nextPageToken) {
            pageToken = page.nextPageToken;
            return { next: acc };
          }
          // The results ran out: the window's end is reached.
          if (!capped()) return { stop: await finish('done', true) };
          // The walk ran out at the API's cap, not at the window's end: narrow the window to below the oldest
          // video reached and walk again (this tick if pages are left, else the next one continues the sweep).
          if (!acc.oldest || (publishedBefore !== undefined && ms(acc.oldest) >= ms(publishedBefore))) {
            // Cannot narrow (every result of the walk has the same publish time): report the gap, never hide it.
            acc.gaps = (acc.gaps ?? 0) + 1;
            ctx.log.warn(
              `youtube-watch "${args.query}": ${walked} results published at ${acc.oldest} exhaust the API's ` +
                `cap of ~${CAP}; older videos of that instant may be missing`,
            );
            return { stop: await finish('done', true) };
          }
          publishedBefore = acc.oldest;
          pageToken = undefined;
          walked = 0;
          return { next: acc };
        },
      });
    },
  };
}

export type YoutubeWatchActivities = ReturnType<typeof createYoutubeWatchActivities>;

/** Activity deps may carry an open videos store (tests, the API process); else the worker opens its own. */
/** The worker's dependencies a watcher uses (the videos store is one of them since Deps carries it). */
export type WithVideosStore = Pick<Deps, 'videos'>;

/** The watcher's activities from the worker's deps: the store is opened (and initialized) once, on first use. */
export function youtubeWatchActivities(deps: Deps & WithVideosStore) {
  let opened: Promise<VideosStore> | undefined;
  const videos = () =>
    (opened ??= (async () => {
      const store = deps.videos ?? createVideosStore(deps.config);
      await store.init();
      return store;
    })().catch((err: unknown) => {
      opened = undefined;
      throw err;
    }));
  return createYoutubeWatchActivities({ config: deps.config, client: createYoutubeClient(deps.config), videos });
}

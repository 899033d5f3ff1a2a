/**
 * Titelive extract: pages through one search query and writes each raw page to the bucket as gzip
 * NDJSON (`{"id": …, "data": "<raw JSON>"}` per product). Checkpointed per page: after each page the
 * activity rewrites a small checkpoint object and heartbeats the same facts, and a retried attempt (or
 * the next call after a rate-limit wait) resumes at the next page — from heartbeatDetails, or from the
 * checkpoint object when the last heartbeat was throttled away. Stops early — without writing — when the
 * query reaches the API's result cap (the workflow splits it), and hands 429s back to the workflow,
 * which waits durably before asking for the next page.
 *
 * Consistency while paging by offset: pages come latest modification first, so a product modified during
 * the extraction moves towards page 1 and can only push the unread pages forward (a duplicate, never a
 * skip). A product leaving the query (modified past its `datemaxm`, or to another `dispo`) pulls the unread
 * pages back and would make the next page skip one: `nbreponses` then drops between two pages, and the
 * activity rereads the query from page 1 (its pages written so far are deleted first, so the query's folder
 * always holds one consistent pass). At most MAX_REREADS per attempt, then a retryable failure.
 */
import { gzipSync } from 'node:zlib';
import { ApplicationFailure, Context } from '@temporalio/activity';
import type { Bucket } from '../../../sinks/bucket';
import type { Config } from '../../../config';
import { CATEGORY_BASES, type TiteliveClient } from '../connector/client';
import { toActivityFailure } from '../../../kit/activity/http';
import { TiteliveRateLimitedError } from '../connector/errors';
import { explodeArticles } from '../connector/parse';
import { chaosPoint } from '../../../kit/activity/chaos-points';
import { assertAttemptLive, beat } from '../../../kit/activity/heartbeat';
import { checkpointedPages } from '../../../kit/activity/pages';
import { CallBudget } from '../../../kit/activity/call-budget';
import { fingerprint } from '../../../node/fingerprint';
import { queryKey, type RangeQuery } from '../workflows/ranges';

export type TiteliveCategory = keyof typeof CATEGORY_BASES;

export interface ExtractArgs {
  runId: string;
  category: TiteliveCategory;
  query: RangeQuery;
  perPage: number;
  /** First page to fetch (1-based) when no checkpoint says otherwise. */
  startPage: number;
}

export interface ExtractOutcome {
  status: 'done' | 'capped' | 'rateLimited';
  /** The page to ask for next (rateLimited). */
  nextPage: number;
  /** Pages, products and articles written for this query so far (all attempts and calls). */
  pages: number;
  products: number;
  articles: number;
  nbreponses: number;
  retryAfterMs?: number;
  /**
   * What this attempt waited for the workers' shared rate inside the activity (ms; present with a rate):
   * `longhaul simulate` shows it as a rate-window wait (src/dev/timeline.ts, `pacedMs`).
   */
  pacedMs?: number;
}

/** Rereads of a query (its result set shrank while paged) per attempt before the attempt fails. */
export const MAX_REREADS = 3;

/**
 * The request-rate entity of an account and task queue (a fingerprint of the user name: no credential in workflow
 * IDs). Per queue too: the entity runs on the queue of the worker that started it, so workers of one deployment
 * (one queue) share it, and a queue whose workers are gone never holds up another's.
 */
export const rateEntityId = (username: string | undefined, taskQueue: string) =>
  `titelive-rate-${fingerprint(username ?? 'no-user')}-${taskQueue}`;
/** The workflow's first wait after a 429 without Retry-After (workflows/titelive.ts `rateLimitWait`). */
const FIRST_RATE_LIMIT_WAIT_MS = 30_000;

export const rawPrefix = (category: string, runId: string) => `titelive/raw/${category}/${runId}/`;
export const pageKey = (category: string, runId: string, q: RangeQuery, page: number) =>
  `${rawPrefix(category, runId)}${queryKey(q)}/page-${String(page).padStart(5, '0')}.ndjson.gz`;

/** The per-query checkpoint object, rewritten after every page: what is already in the bucket. */
interface Checkpoint {
  lastPage: number;
  products: number;
  articles: number;
  nbreponses: number;
  /** How many times the query was read again from page 1 (a later pass wins over any earlier page). */
  pass?: number;
}
const newer = (a: Checkpoint, b: Checkpoint) =>
  (a.pass ?? 0) !== (b.pass ?? 0) ? (a.pass ?? 0) > (b.pass ?? 0) : a.lastPage > b.lastPage;
const checkpointKey = (category: string, runId: string, q: RangeQuery) =>
  `${rawPrefix(category, runId)}${queryKey(q)}/checkpoint.json`;

const queryPrefix = (category: string, runId: string, q: RangeQuery) => `${rawPrefix(category, runId)}${queryKey(q)}/`;

/** Deletes the pages a query has in the bucket (before it is read from page 1 again). */
async function clearPages(bucket: Bucket, prefix: string): Promise<void> {
  for (const o of await bucket.list(prefix)) if (o.key.endsWith('.ndjson.gz')) await bucket.delete(o.key);
}

async function readCheckpoint(bucket: Bucket, key: string): Promise<Checkpoint | undefined> {
  if (!(await bucket.exists(key))) return undefined;
  return JSON.parse((await bucket.get(key)).toString('utf8')) as Checkpoint;
}

export function createTiteliveExtractActivities(deps: { config: Config; bucket: Bucket; client: TiteliveClient }) {
  const { config, bucket, client } = deps;
  return {
    async titeliveExtract(args: ExtractArgs): Promise<ExtractOutcome> {
      const ctx = Context.current();
      const ckKey = checkpointKey(args.category, args.runId, args.query);
      const what = `Titelive ${queryKey(args.query)}`;
      const initial: Checkpoint = { lastPage: 0, products: 0, articles: 0, nbreponses: 0 };
      const cap = config.TITELIVE_MAX_RESULTS;
      let rereads = 0;
      // Every worker's requests share the account's rate (TITELIVE_RATE_PER_SECOND; 0: none).
      const budget =
        config.TITELIVE_RATE_PER_SECOND > 0
          ? new CallBudget(ctx.client, {
              entityId: rateEntityId(config.TITELIVE_USERNAME, ctx.info.taskQueue),
              taskQueue: ctx.info.taskQueue,
              perSecond: config.TITELIVE_RATE_PER_SECOND,
              burst: config.TITELIVE_RATE_BURST,
              batch: 5,
              label: `Titelive requests (${config.TITELIVE_RATE_PER_SECOND}/s, burst ${config.TITELIVE_RATE_BURST})`,
              requesterId: `${args.runId}/${queryKey(args.query)}`,
            })
          : undefined;
      // Counts are cumulative for the query (every page written so far, by any attempt or call).
      const outcome = (
        ck: Checkpoint,
        status: ExtractOutcome['status'],
        nextPage: number,
        nbreponses = ck.nbreponses,
      ) =>
        ({ status, nextPage, pages: ck.lastPage, products: ck.products, articles: ck.articles, nbreponses }) as const;
      try {
        const result = await checkpointedPages<Checkpoint, ExtractOutcome>({
          what,
          initial,
          newer,
          store: {
            read: () => readCheckpoint(bucket, ckKey),
            write: (ck) => bucket.put(ckKey, JSON.stringify(ck), { contentType: 'application/json' }),
          },
          async page(ck, signal) {
            // The checkpoint knows what is written (of the latest pass); startPage only when there is none yet.
            const page = ck === initial ? args.startPage : ck.lastPage + 1;
            // Reading from page 1: no page of an earlier, interrupted pass may stay beside this one.
            if (page === 1) {
              assertAttemptLive(`${what}: clear the pages of an earlier pass`);
              await clearPages(bucket, queryPrefix(args.category, args.runId, args.query));
            }
            let res;
            try {
              await budget?.take(signal, () => beat(ck)); // the heartbeat's details are the checkpoint
              res = await client.search(
                {
                  base: CATEGORY_BASES[args.category],
                  dateMin: args.query.dateMin,
                  dateMax: args.query.dateMax,
                  dispo: args.query.dispo,
                  page,
                  perPage: args.perPage,
                },
                signal,
              );
            } catch (err) {
              if (err instanceof TiteliveRateLimitedError) {
                // Every worker's requests wait too (the API sends no Retry-After: the workflow's first wait).
                await budget?.blocked(Date.now() + (err.retryAfterMs ?? FIRST_RATE_LIMIT_WAIT_MS));
                return { stop: { ...outcome(ck, 'rateLimited', page), retryAfterMs: err.retryAfterMs } };
              }
              throw err;
            }
            if (page > 1 && ck.nbreponses > 0 && res.nbreponses < ck.nbreponses) {
              // Products left the query since the previous page: the unread ones shifted back, so this page
              // may have skipped some. Read the query again from page 1 (a new pass: its checkpoint restarts).
              if (++rereads > MAX_REREADS)
                throw ApplicationFailure.retryable(
                  `${what}: results kept changing while paged (nbreponses ${ck.nbreponses} → ${res.nbreponses}, ${MAX_REREADS} rereads)`,
                  'TiteliveResultsChanged',
                );
              return { next: { lastPage: 0, products: 0, articles: 0, nbreponses: 0, pass: (ck.pass ?? 0) + 1 } };
            }
            if (res.nbreponses >= cap && page === 1) return { stop: outcome(ck, 'capped', page, res.nbreponses) };
            if (res.items.length === 0) return { stop: outcome(ck, 'done', page, res.nbreponses) };
            const body = res.items
              .map((it) => JSON.stringify({ id: String(it.id), data: JSON.stringify(it) }))
              .join('\n');
            // A stale attempt (its worker stopped past the heartbeat timeout, then resumed) writes nothing more: a
            // successor owns the query, and this attempt's checkpoint would take it back (found by the full chaos
            // suite's pause run: the checkpoint ended at an older page than the run's).
            assertAttemptLive(`${what}: write page ${page}`);
            await bucket.put(pageKey(args.category, args.runId, args.query, page), gzipSync(Buffer.from(body + '\n')), {
              contentType: 'application/x-ndjson',
            });
            chaosPoint('titelive.extract.after-write'); // the page is written, its checkpoint not yet
            const next: Checkpoint = {
              lastPage: page,
              products: ck.products + res.items.length,
              articles: ck.articles + res.items.reduce((n, it) => n + explodeArticles(it.article).length, 0),
              nbreponses: res.nbreponses,
              pass: ck.pass ?? 0,
            };
            // The last page: its checkpoint is stored (by the loop) before the query is reported done.
            if (page * args.perPage >= Math.min(res.nbreponses, cap))
              return { next, stop: outcome(next, 'done', page + 1) };
            return { next };
          },
        });
        return budget ? { ...result, pacedMs: budget.waitedMs } : result;
      } catch (err) {
        // Cancelled mid-request (axios reports its own CanceledError): confirm with the SDK's reason.
        if (ctx.cancellationSignal.aborted) throw ctx.cancellationSignal.reason ?? err;
        throw toActivityFailure(err);
      }
    },
  };
}

/**
 * youtube-enrich, step 2: fetch one chunk of IDs — several videos.list calls of 50 IDs — with keys handed
 * out by the quota ledger. Each batch's answer is written to the bucket as soon as it arrives and the
 * activity heartbeats, so a retried attempt (worker restart, transient error) skips the batches already
 * done. A quotaExceeded answer marks the key's project spent and asks the ledger again; a keyInvalid answer
 * takes the key out of the pool; when the ledger says "wait", the activity hands the reset time back to the
 * workflow, which sleeps on a durable timer. Rate limits and transient errors fail the attempt (retried
 * with backoff, honouring Retry-After). When every batch is in, the chunk becomes one deterministic gzip
 * NDJSON shard plus a done record (fetched count, missing IDs).
 *
 * A batch object is written once in the shard's own form — a header line `{"missing":[…]}`, then one
 * NDJSON line per video — so the shard is the batches' lines end to end, never parsed and serialized again;
 * the batches an attempt wrote itself are joined from memory, only those of an earlier attempt read back.
 * Compression runs on libuv's thread pool at level 1 (the event loop is the worker's scarce resource:
 * see the breakdown in docs/youtube.md). Batch objects of the older form (`batch-NNNN.json.gz`, one JSON
 * object `{items, missing}`) left by a run started before this change are still read.
 */
import { promisify } from 'node:util';
import { gunzip as gunzipCb, gzip as gzipCb } from 'node:zlib';
import { Context } from '@temporalio/activity';
import type { Config } from '../../../config';
import type { Bucket } from '../../../sinks/bucket';
import { MAX_IDS_PER_CALL, type VideoPart } from '../connector/enums';
import type { YoutubeClient } from '../connector/client';
import { parseYoutubeKeys, projectsOf } from '../connector/keys';
import type { Video } from '../connector/schemas';
import { ledgerWorkflowId, type LedgerConfig } from '../../../kit/limits/quota';
import { chaosPoint } from '../../../kit/activity/chaos-points';
import { QuotaLedgerClient } from '../../../kit/activity/quota-ledger';
import { checkpointedPages } from '../../../kit/activity/pages';
import { YoutubeKeyedCalls } from './keyed-calls';
import { readChunk } from './prepare';

export const VIDEOS_METHOD = 'videos.list';

export interface FetchChunkArgs {
  workKey: string;
  outPrefix: string;
  chunk: number;
  parts: VideoPart[];
  /** Quota ledger pool (`youtube` → workflow `quota-ledger-youtube`). */
  pool: string;
  unitsPerDay: number;
  costPerCall: number;
  /** The calling workflow (ledger logs). */
  requester: string;
}

export interface ChunkOutcome {
  chunk: number;
  status: 'done' | 'wait';
  /** status 'wait': the earliest reset (epoch ms) and why. */
  until?: number;
  waitReason?: string;
  batches: number;
  batchesDone: number;
  /** status 'done': videos returned and IDs the API did not return. */
  fetched: number;
  missing: number;
  shardKey?: string;
  /** Made by this invocation. */
  calls: number;
  units: number;
  unitsByKey: Record<string, number>;
  quotaExceeded: number;
  invalidKeys: string[];
}

/** A batch object of the older form (runs started before the NDJSON batch objects). */
interface LegacyBatchFile {
  items: Video[];
  missing: string[];
}

const gzip = promisify(gzipCb);
const gunzip = promisify(gunzipCb);
/** Level 1: ~4x less CPU than the default for ~15% more bytes; these objects are work files and shards. */
const GZIP = { level: 1 } as const;

interface BatchesDone {
  batchesDone: number[];
}

interface DoneRecord {
  fetched: number;
  missing: string[];
  shardKey: string;
}

const pad = (n: number, w: number) => String(n).padStart(w, '0');
const chunkDir = (workKey: string, chunk: number) => `${workKey}/batches/chunk-${pad(chunk, 6)}`;
const batchKey = (workKey: string, chunk: number, b: number) =>
  `${chunkDir(workKey, chunk)}/batch-${pad(b, 4)}.ndjson.gz`;
const legacyBatchKey = (workKey: string, chunk: number, b: number) =>
  `${chunkDir(workKey, chunk)}/batch-${pad(b, 4)}.json.gz`;

/** A batch object: the header line with the IDs the API did not return, then a line per video. */
export function batchText(items: readonly Video[], missing: readonly string[]): string {
  let text = JSON.stringify({ missing }) + '\n';
  for (const item of items) text += JSON.stringify(item) + '\n';
  return text;
}

/** A batch object's missing IDs and its video lines (the shard's bytes), in either form. */
export function readBatchText(text: string, legacy = false): { missing: string[]; lines: string } {
  if (legacy) {
    const f = JSON.parse(text) as LegacyBatchFile;
    return { missing: f.missing, lines: f.items.map((i) => JSON.stringify(i) + '\n').join('') };
  }
  const nl = text.indexOf('\n');
  return { missing: (JSON.parse(text.slice(0, nl)) as { missing: string[] }).missing, lines: text.slice(nl + 1) };
}
export const doneKey = (workKey: string, chunk: number) => `${workKey}/done/chunk-${pad(chunk, 6)}.json`;
export const shardKey = (outPrefix: string, chunk: number) => `${outPrefix}/videos/part-${pad(chunk, 6)}.ndjson.gz`;

/**
 * The ledger configuration for this worker's keys: one bucket per Google Cloud project, reset at midnight
 * Pacific (or every YOUTUBE_QUOTA_DAY against a sandbox whose quota day is shortened).
 */
export function youtubeLedgerConfig(config: Config, unitsPerDay: number, costPerCall: number): LedgerConfig {
  return {
    buckets: projectsOf(parseYoutubeKeys(config.YOUTUBE_API_KEYS)).map((p) => ({
      id: p.project,
      unitsPerPeriod: unitsPerDay,
      reset: config.YOUTUBE_QUOTA_DAY
        ? { kind: 'interval', periodMs: config.YOUTUBE_QUOTA_DAY, anchorMs: 0 }
        : { kind: 'pacific-midnight' },
      keys: p.fingerprints,
    })),
    costs: { [VIDEOS_METHOD]: costPerCall },
  };
}

export async function readDone(bucket: Bucket, workKey: string, chunk: number): Promise<DoneRecord | undefined> {
  const key = doneKey(workKey, chunk);
  if (!(await bucket.exists(key))) return undefined;
  return JSON.parse((await bucket.get(key)).toString('utf8')) as DoneRecord;
}

export function createYoutubeFetchActivities(deps: { config: Config; bucket: Bucket; client: YoutubeClient }) {
  const { config, bucket, client } = deps;
  const keys = new Map(parseYoutubeKeys(config.YOUTUBE_API_KEYS).map((k) => [k.fingerprint, k]));
  return {
    async youtubeFetchChunk(args: FetchChunkArgs): Promise<ChunkOutcome> {
      const ctx = Context.current();
      const ids = await readChunk(bucket, args.workKey, args.chunk);
      const batches: string[][] = [];
      for (let i = 0; i < ids.length; i += MAX_IDS_PER_CALL) batches.push(ids.slice(i, i + MAX_IDS_PER_CALL));
      const out: ChunkOutcome = {
        chunk: args.chunk,
        status: 'done',
        batches: batches.length,
        batchesDone: 0,
        fetched: 0,
        missing: 0,
        calls: 0,
        units: 0,
        unitsByKey: {},
        quotaExceeded: 0,
        invalidKeys: [],
      };
      const finished = await readDone(bucket, args.workKey, args.chunk);
      if (finished) {
        return {
          ...out,
          batchesDone: batches.length,
          fetched: finished.fetched,
          missing: finished.missing.length,
          shardKey: finished.shardKey,
        };
      }

      const ledger = new QuotaLedgerClient(
        ctx.client,
        ledgerWorkflowId(args.pool),
        ctx.info.taskQueue,
        youtubeLedgerConfig(config, args.unitsPerDay, args.costPerCall),
      );
      let lastDetails: unknown = ctx.info.heartbeatDetails;
      ledger.onRetry = () => ctx.heartbeat(lastDetails); // waiting on a busy ledger is not a dead worker
      const calls = new YoutubeKeyedCalls(ledger, keys, {
        method: VIDEOS_METHOD,
        requester: args.requester,
        who: 'YouTube enrichment',
        warn: (m) => ctx.log.warn(m),
        onCall: (fp) => {
          out.calls++;
          out.units += args.costPerCall;
          out.unitsByKey[fp] = (out.unitsByKey[fp] ?? 0) + args.costPerCall;
        },
        onNotServed: (fp, why, reason) => {
          out.units -= args.costPerCall;
          out.unitsByKey[fp] -= args.costPerCall;
          if (why === 'quota') out.quotaExceeded++;
          else out.invalidKeys.push(`${fp}: ${reason}`);
        },
      });
      let writing: { b: number; write: Promise<void> } | undefined;
      // Batches an earlier attempt wrote in the older form (found when the checkpoint is read, which every
      // attempt does first); every other batch is in the current form.
      const legacy = new Set<number>();
      // The batches this attempt wrote, as written: the shard is made from them without reading them back.
      const mine = new Map<number, string>();
      try {
        // The checkpoint: the batches written. A batch file is its own record (written before the heartbeat
        // says so), so a retried attempt also skips the batches whose heartbeat was lost.
        const waited = await checkpointedPages<BatchesDone, ChunkOutcome | undefined>({
          what: `youtubeFetchChunk ${args.chunk}`,
          initial: { batchesDone: [] },
          newer: (a, b) => a.batchesDone.length > b.batchesDone.length,
          store: {
            read: async () => {
              // One listing of the chunk's folder (not a look-up per batch and form).
              const there = new Set((await bucket.list(`${chunkDir(args.workKey, args.chunk)}/`)).map((o) => o.key));
              const written: number[] = [];
              for (let b = 0; b < batches.length; b++) {
                if (there.has(batchKey(args.workKey, args.chunk, b))) written.push(b);
                else if (there.has(legacyBatchKey(args.workKey, args.chunk, b))) {
                  written.push(b);
                  legacy.add(b);
                }
              }
              return { batchesDone: written };
            },
          },
          async page({ batchesDone }, signal) {
            // One batch's write overlaps the next batch's call (the write is what a batch waited on most);
            // a batch enters the checkpoint only once its object is written.
            const written = async (): Promise<BatchesDone> => {
              const w = writing;
              writing = undefined;
              if (w) await w.write;
              return { batchesDone: w ? [...batchesDone, w.b] : batchesDone };
            };
            const done = new Set(batchesDone);
            if (writing) done.add(writing.b);
            const b = batches.findIndex((_, i) => !done.has(i));
            if (b < 0) {
              const next = await written();
              lastDetails = next;
              return { stop: undefined, next };
            }
            const r = await calls.call(batches.length - done.size, (key) =>
              client.videosList(batches[b], args.parts, key, signal),
            );
            const next = await written();
            lastDetails = next;
            if (r.kind === 'wait')
              return {
                stop: { ...out, status: 'wait', until: r.until, waitReason: r.reason, batchesDone: done.size },
                next,
              };
            const text = batchText(r.value.items, r.value.missing);
            const write = (async () => {
              const body = await gzip(text, GZIP);
              await bucket.put(batchKey(args.workKey, args.chunk, b), body, { contentType: 'application/gzip' });
              // The chaos suite can kill the worker here: the batch is written, the heartbeat not yet sent.
              chaosPoint('youtube.fetch.after-write');
              mine.set(b, text);
            })();
            write.catch(() => {}); // awaited by the next page; a cancelled attempt must not leave it unhandled
            writing = { b, write };
            return { next };
          },
        });
        if (waited) return waited;
      } finally {
        await writing?.write.catch(() => {}); // nothing of this attempt outlives it
        await calls.release();
      }

      // Every batch is in: one shard (batch order, as the API answered) and the done record.
      const parts: string[] = [];
      const missing: string[] = [];
      for (let b = 0; b < batches.length; b++) {
        const old = !mine.has(b) && legacy.has(b);
        const f = readBatchText(
          mine.get(b) ??
            (await gunzip(await bucket.get((old ? legacyBatchKey : batchKey)(args.workKey, args.chunk, b)))).toString(
              'utf8',
            ),
          old,
        );
        mine.delete(b);
        parts.push(f.lines);
        missing.push(...f.missing);
      }
      const text = parts.join('');
      let fetched = 0;
      for (let i = text.indexOf('\n'); i >= 0; i = text.indexOf('\n', i + 1)) fetched++;
      const key = shardKey(args.outPrefix, args.chunk);
      await bucket.put(key, await gzip(text, GZIP), { contentType: 'application/x-ndjson' });
      const record: DoneRecord = { fetched, missing, shardKey: key };
      await bucket.put(doneKey(args.workKey, args.chunk), JSON.stringify(record), { contentType: 'application/json' });
      return { ...out, batchesDone: batches.length, fetched, missing: missing.length, shardKey: key };
    },
  };
}

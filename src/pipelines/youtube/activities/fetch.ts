/**
 * youtube-enrich, step 2: fetch one chunk of IDs — several videos.list calls of 50 IDs — with keys handed
 * out by the quota ledger. Each batch's answer is written to the bucket as soon as it arrives and the
 * activity heartbeats, so a retried attempt (worker restart, transient error) skips the batches already
 * done. A quotaExceeded answer marks the key's project spent and asks the ledger again; a keyInvalid answer
 * takes the key out of the pool; when the ledger says "wait", the activity hands the reset time back to the
 * workflow, which sleeps on a durable timer. Rate limits and transient errors fail the attempt (retried
 * with backoff, honouring Retry-After). When every batch is in, the chunk becomes one deterministic gzip
 * NDJSON shard plus a done record (fetched count, missing IDs).
 */
import { gunzipSync, gzipSync } from 'node:zlib';
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

interface BatchFile {
  items: Video[];
  missing: string[];
}

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
  `${chunkDir(workKey, chunk)}/batch-${pad(b, 4)}.json.gz`;
export const doneKey = (workKey: string, chunk: number) => `${workKey}/done/chunk-${pad(chunk, 6)}.json`;
export const shardKey = (outPrefix: string, chunk: number) => `${outPrefix}/videos/part-${pad(chunk, 6)}.ndjson.gz`;

/** The ledger configuration for this worker's keys: one bucket per Google Cloud project. */
export function youtubeLedgerConfig(config: Config, unitsPerDay: number, costPerCall: number): LedgerConfig {
  return {
    buckets: projectsOf(parseYoutubeKeys(config.YOUTUBE_API_KEYS)).map((p) => ({
      id: p.project,
      unitsPerPeriod: unitsPerDay,
      reset: { kind: 'pacific-midnight' },
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
      try {
        // The checkpoint: the batches written. A batch file is its own record (written before the heartbeat
        // says so), so a retried attempt also skips the batches whose heartbeat was lost.
        const waited = await checkpointedPages<BatchesDone, ChunkOutcome | undefined>({
          what: `youtubeFetchChunk ${args.chunk}`,
          initial: { batchesDone: [] },
          newer: (a, b) => a.batchesDone.length > b.batchesDone.length,
          store: {
            read: async () => {
              const written: number[] = [];
              for (let b = 0; b < batches.length; b++)
                if (await bucket.exists(batchKey(args.workKey, args.chunk, b))) written.push(b);
              return { batchesDone: written };
            },
          },
          async page({ batchesDone }, signal) {
            const done = new Set(batchesDone);
            const b = batches.findIndex((_, i) => !done.has(i));
            if (b < 0) return { stop: undefined };
            const r = await calls.call(batches.length - done.size, (key) =>
              client.videosList(batches[b], args.parts, key, signal),
            );
            if (r.kind === 'wait')
              return { stop: { ...out, status: 'wait', until: r.until, waitReason: r.reason, batchesDone: done.size } };
            const file: BatchFile = { items: r.value.items, missing: r.value.missing };
            await bucket.put(batchKey(args.workKey, args.chunk, b), gzipSync(JSON.stringify(file)), {
              contentType: 'application/gzip',
            });
            // The chaos suite can kill the worker here: the batch is written, the heartbeat not yet sent.
            chaosPoint('youtube.fetch.after-write');
            lastDetails = { batchesDone: [...done, b] };
            return { next: lastDetails as BatchesDone };
          },
        });
        if (waited) return waited;
      } finally {
        await calls.release();
      }

      // Every batch is in: one shard (batch order, as the API answered) and the done record.
      const lines: string[] = [];
      const missing: string[] = [];
      for (let b = 0; b < batches.length; b++) {
        const f = JSON.parse(
          gunzipSync(await bucket.get(batchKey(args.workKey, args.chunk, b))).toString('utf8'),
        ) as BatchFile;
        for (const item of f.items) lines.push(JSON.stringify(item));
        missing.push(...f.missing);
      }
      const key = shardKey(args.outPrefix, args.chunk);
      await bucket.put(key, gzipSync(lines.length ? lines.join('\n') + '\n' : ''), {
        contentType: 'application/x-ndjson',
      });
      const record: DoneRecord = { fetched: lines.length, missing, shardKey: key };
      await bucket.put(doneKey(args.workKey, args.chunk), JSON.stringify(record), { contentType: 'application/json' });
      return { ...out, batchesDone: batches.length, fetched: lines.length, missing: missing.length, shardKey: key };
    },
  };
}

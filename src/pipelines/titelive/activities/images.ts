/**
 * Titelive images: downloads the recto and verso of every article through one bounded, keep-alive
 * connection pool (per worker process) with bounded parallelism, and writes each image to the bucket
 * under `titelive/images/<uuid>` — a UUID derived from the source URL, so retries and reruns overwrite
 * the same object. Each image gets a status row (ok / missing / failed + reason) in `titelive_images`.
 * Image failures never fail the activity; 5xx and network errors are retried with backoff here, and the
 * workflow gives the failures one more pass after a durable wait.
 */
import { gunzipSync } from 'node:zlib';
import { Context } from '@temporalio/activity';
import type { Bucket } from '../../../sinks/bucket';
import { columns, fromArray, type TableSchema, type Warehouse } from '../../../sinks/warehouse';
import {
  DEFAULT_IMAGE_RETRY,
  imageUuid,
  type ImageFetcher,
  type ImageOutcome,
  type ImageRetry,
} from '../connector/images';
import { heartbeating } from '../../../kit/activity/heartbeat';
import { mapLimit } from '../../../kit/pool';
import type { ImageRef } from '../connector/parse';
import { imageChunkKey } from './parse';

export const TITELIVE_IMAGES_TABLE: TableSchema = {
  name: 'titelive_images',
  columns: columns({
    product_id: 'STRING!',
    article_id: 'STRING!',
    side: 'STRING!',
    source_url: 'STRING',
    uuid: 'STRING',
    object_key: 'STRING',
    status: 'STRING!',
    reason: 'STRING',
    http_status: 'INT64',
    bytes: 'INT64',
    attempts: 'INT64',
    run_id: 'STRING!',
    updated_at: 'TIMESTAMP!',
  }),
  primaryKey: ['product_id', 'article_id', 'side'],
  write: { kind: 'merge' },
};

export interface ImageCounts {
  ok: number;
  missing: number;
  failed: number;
}

export interface ImagesArgs {
  runId: string;
  chunkPrefix: string;
  /** 1-based chunk number. */
  chunk: number;
  /** Bucket prefix of the images (`imagePrefix`; absent in runs begun before it: the default). */
  imagePrefix?: string;
}

/** Where images go unless the run says otherwise (the replaced script's `--gcs-thumb-base-path`). */
export const DEFAULT_IMAGE_PREFIX = 'titelive/images';

export const imageObjectKey = (uuid: string, prefix = DEFAULT_IMAGE_PREFIX) => `${prefix}/${uuid}`;

export function createTiteliveImagesActivities(deps: {
  bucket: Bucket;
  warehouse: Warehouse;
  fetcher: ImageFetcher;
  concurrency: number;
  /** Defaults to the replaced script's policy (DEFAULT_IMAGE_RETRY). */
  retry?: Omit<ImageRetry, 'deadline'>;
}) {
  const { bucket, warehouse, fetcher, concurrency } = deps;

  async function process(runId: string, refs: ImageRef[], prefix = DEFAULT_IMAGE_PREFIX): Promise<ImageCounts> {
    const ctx = Context.current();
    const counts: ImageCounts = { ok: 0, missing: 0, failed: 0 };
    // Retries stop before the attempt's time is two-thirds gone (its rows still have to be loaded): an image
    // still failing then is left for the run's later pass, instead of timing the whole chunk out.
    const { currentAttemptScheduledTimestampMs: began, startToCloseTimeoutMs: budget } = ctx.info;
    const deadline = budget ? began + (budget * 2) / 3 : undefined;
    let done = 0;
    // Heartbeat on a timer too, the load included: a batch of slow hosts must not look like a dead worker.
    return heartbeating(
      async () => {
        // One download and one write per distinct URL (placeholders are listed by many articles).
        type Done = Exclude<ImageOutcome, { kind: 'ok' }> | { kind: 'ok'; httpStatus: number; bytes: number };
        const once = new Map<string, Promise<Done & { attempts: number }>>();
        const download = (url: string) => {
          let p = once.get(url);
          if (!p) {
            p = fetcher.fetch(url, { ...(deps.retry ?? DEFAULT_IMAGE_RETRY), deadline }).then(async (out) => {
              if (out.kind !== 'ok') return out;
              await bucket.put(imageObjectKey(imageUuid(url), prefix), out.body, { contentType: out.contentType });
              return {
                kind: 'ok' as const,
                httpStatus: out.httpStatus,
                bytes: out.body.length,
                attempts: out.attempts,
              };
            });
            once.set(url, p);
          }
          return p;
        };
        const rows = await mapLimit(refs, concurrency, async (ref) => {
          const base = {
            product_id: ref.product_id,
            article_id: ref.article_id,
            side: ref.side,
            source_url: ref.url,
            run_id: runId,
          };
          const stamp = () => new Date().toISOString();
          let row;
          if (!ref.url) row = { ...base, status: 'missing', reason: 'no URL listed', attempts: 0, updated_at: stamp() };
          else {
            const uuid = imageUuid(ref.url);
            const out = await download(ref.url);
            if (out.kind === 'ok') {
              row = {
                ...base,
                uuid,
                object_key: imageObjectKey(uuid, prefix),
                status: 'ok',
                http_status: out.httpStatus,
                bytes: out.bytes,
                attempts: out.attempts,
                updated_at: stamp(),
              };
            } else
              row = {
                ...base,
                uuid,
                status: out.kind === 'missing' ? 'missing' : 'failed',
                reason: out.reason,
                http_status: out.httpStatus ?? null,
                attempts: out.attempts,
                updated_at: stamp(),
              };
          }
          counts[row.status as keyof ImageCounts]++;
          if (++done % 50 === 0) ctx.heartbeat({ done });
          return row;
        });
        await warehouse.load(TITELIVE_IMAGES_TABLE, fromArray(rows));
        return counts;
      },
      { details: () => ({ done }), everyMs: 10_000 },
    );
  }

  return {
    /** One chunk of the run's image work list. */
    async titeliveImages(args: ImagesArgs): Promise<ImageCounts & { images: number }> {
      const body = gunzipSync(await bucket.get(imageChunkKey(args.chunkPrefix, args.chunk))).toString('utf8');
      const refs = body
        .split('\n')
        .filter(Boolean)
        .map((l) => JSON.parse(l) as ImageRef);
      return { images: refs.length, ...(await process(args.runId, refs, args.imagePrefix)) };
    },

    /** Tries the run's failed images again; returns the new counts of those images. */
    async titeliveRetryFailedImages(args: {
      runId: string;
      imagePrefix?: string;
    }): Promise<ImageCounts & { retried: number }> {
      await warehouse.ensureTable(TITELIVE_IMAGES_TABLE);
      const failed = (
        await warehouse.select<{ product_id: string; article_id: string; side: 'recto' | 'verso'; source_url: string }>(
          TITELIVE_IMAGES_TABLE,
          {
            columns: ['product_id', 'article_id', 'side', 'source_url'],
            where: { run_id: args.runId, status: 'failed' },
            orderBy: ['product_id', 'article_id', 'side'],
          },
        )
      ).map(({ source_url, ...r }) => ({ ...r, url: source_url }));
      return { retried: failed.length, ...(await process(args.runId, failed, args.imagePrefix)) };
    },
  };
}

/**
 * The titelive pipeline's activities: extract (extract.ts), parse (parse.ts), images
 * (images.ts), and the durable high-water mark — a row per category in `titelive_state`,
 * written only when a run has succeeded. The API client (and its token cache) and the image connection
 * pool are built once per worker from `deps.config`: credentials never travel through workflow history.
 */
import type { Deps } from '../../../activities/deps';
import { columns, fromArray, type TableSchema } from '../../../sinks/warehouse';
import { createTiteliveClient } from '../connector/client';
import { ImageFetcher } from '../connector/images';
import { createTiteliveExtractActivities } from './extract';
import { createTiteliveParseActivities } from './parse';
import { createTiteliveImagesActivities } from './images';
import { createTiteliveImagesParquetActivities } from './images-parquet';
import { inputBucket, ownBucketName } from '../../../sinks';
import { paths } from '../../../config';

export const TITELIVE_STATE_TABLE: TableSchema = {
  name: 'titelive_state',
  columns: columns({
    category: 'STRING!',
    high_water_mark: 'DATE!',
    run_id: 'STRING!',
    updated_at: 'TIMESTAMP!',
  }),
  primaryKey: ['category'],
  write: { kind: 'merge' },
};

export function createTiteliveActivities(deps: Deps) {
  const { config, warehouse, bucket } = deps;
  // The scratch databases of the parse and the images' Parquet are bounded as the warehouse is.
  const duckdb = { memoryLimit: config.DUCKDB_MEMORY_LIMIT, threads: config.DUCKDB_THREADS };
  const client = createTiteliveClient(config);
  const fetcher = new ImageFetcher({
    poolSize: config.TITELIVE_IMAGE_POOL_SIZE,
    imagesBaseUrl: config.TITELIVE_IMAGES_URL,
  });
  return {
    ...createTiteliveExtractActivities({ config, bucket, client }),
    ...createTiteliveParseActivities({
      bucket,
      warehouse,
      inputDir: paths.input(config),
      s3: { ownName: ownBucketName(config), open: (name) => inputBucket(config, name) },
      duckdb,
    }),
    ...createTiteliveImagesParquetActivities({ bucket, warehouse, duckdb }),
    ...createTiteliveImagesActivities({
      bucket,
      warehouse,
      fetcher,
      concurrency: config.TITELIVE_IMAGE_CONCURRENCY,
      retry: {
        retries: config.TITELIVE_IMAGE_RETRIES,
        backoffMs: config.TITELIVE_IMAGE_RETRY_BACKOFF_MS,
        maxDelayMs: config.TITELIVE_IMAGE_RETRY_MAX_MS,
      },
    }),

    /** The last successful run's high-water mark for a category (YYYY-MM-DD), or null. */
    async titeliveReadHighWaterMark(args: { category: string }): Promise<string | null> {
      await warehouse.ensureTable(TITELIVE_STATE_TABLE);
      const rows = await warehouse.select<{ high_water_mark: string }>(TITELIVE_STATE_TABLE, {
        columns: ['high_water_mark'],
        where: { category: args.category },
      });
      return rows[0]?.high_water_mark ?? null;
    },

    /** Records a successful run's high-water mark (the last day it covered). */
    async titeliveSaveHighWaterMark(args: { category: string; date: string; runId: string }): Promise<void> {
      await warehouse.load(
        TITELIVE_STATE_TABLE,
        fromArray([
          {
            category: args.category,
            high_water_mark: args.date,
            run_id: args.runId,
            updated_at: new Date().toISOString(),
          },
        ]),
      );
    },
  };
}

export type TiteliveActivities = ReturnType<typeof createTiteliveActivities>;

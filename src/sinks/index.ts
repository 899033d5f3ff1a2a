/** Builds the configured warehouse and bucket (DuckDB + local folder by default). */
import { paths, type Config } from '../config';
import type { Bucket } from './bucket';
import { BigQueryWarehouse } from './bigquery';
import { DuckDbWarehouse } from './duckdb';
import { LocalBucket } from './local-bucket';
import { S3Bucket } from './s3-bucket';
import type { Warehouse } from './warehouse';

/** The value of a variable the chosen sink cannot work without. */
function required<K extends keyof Config>(config: Config, key: K, what: string): NonNullable<Config[K]> {
  const v = config[key];
  if (v === undefined || v === null || v === '') throw new Error(`${what} needs ${String(key)}`);
  return v as NonNullable<Config[K]>;
}

export function createWarehouse(config: Config): Warehouse {
  switch (config.WAREHOUSE) {
    case 'duckdb':
      return new DuckDbWarehouse({
        path: paths.duckdb(config),
        memoryLimit: config.DUCKDB_MEMORY_LIMIT,
        threads: config.DUCKDB_THREADS,
        tempDirectory: config.DUCKDB_TEMP_DIR ?? `${paths.duckdb(config)}.tmp`,
      });
    case 'bigquery':
      return new BigQueryWarehouse({
        projectId: required(config, 'BIGQUERY_PROJECT', 'WAREHOUSE=bigquery'),
        datasetId: required(config, 'BIGQUERY_DATASET', 'WAREHOUSE=bigquery'),
        location: config.BIGQUERY_LOCATION,
        apiEndpoint: config.BIGQUERY_API_ENDPOINT,
      });
  }
}

export function createBucket(config: Config): Bucket {
  switch (config.BUCKET) {
    case 'local':
      return new LocalBucket(paths.bucket(config));
    case 's3': {
      const bucket = required(config, 'S3_BUCKET', 'BUCKET=s3');
      // Static credentials come as a pair; with neither, the SDK's default chain (env, profile, role) applies.
      const id = config.S3_ACCESS_KEY_ID;
      const secret = config.S3_SECRET_ACCESS_KEY;
      if (id && !secret) throw new Error('S3_ACCESS_KEY_ID is set: BUCKET=s3 also needs S3_SECRET_ACCESS_KEY');
      if (secret && !id) throw new Error('S3_SECRET_ACCESS_KEY is set: BUCKET=s3 also needs S3_ACCESS_KEY_ID');
      return new S3Bucket({
        bucket,
        region: config.S3_REGION,
        endpoint: config.S3_ENDPOINT,
        forcePathStyle: config.S3_FORCE_PATH_STYLE,
        credentials: id && secret ? { accessKeyId: id, secretAccessKey: secret } : undefined,
      });
    }
  }
}

/**
 * A bucket other than the configured one, named by an `s3://<name>/…` input URL: on the same S3 service
 * (S3_ENDPOINT, S3_REGION, S3_FORCE_PATH_STYLE; AWS when no endpoint is set). Read with the configured static
 * credentials (S3_ACCESS_KEY_ID/S3_SECRET_ACCESS_KEY), or with the SDK's default chain when the worker's own
 * bucket is S3; otherwise anonymously (a public bucket).
 */
export function inputBucket(config: Config, name: string): S3Bucket {
  const id = config.S3_ACCESS_KEY_ID;
  const secret = config.S3_SECRET_ACCESS_KEY;
  return new S3Bucket({
    bucket: name,
    region: config.S3_REGION,
    endpoint: config.S3_ENDPOINT,
    forcePathStyle: config.S3_FORCE_PATH_STYLE,
    credentials: id && secret ? { accessKeyId: id, secretAccessKey: secret } : undefined,
    // No static pair, and no S3 bucket of the worker's own whose default credential chain would apply.
    anonymous: !(id && secret) && config.BUCKET !== 's3',
    followRegionRedirects: !config.S3_ENDPOINT,
  });
}

/** The name `s3://<name>/…` URLs use for the configured bucket: its S3 name, or S3_BUCKET (default `longhaul`). */
export const ownBucketName = (config: Config) => config.S3_BUCKET ?? 'longhaul';

export type { Bucket, Warehouse };

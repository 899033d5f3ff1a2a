/** Builds the configured warehouse and bucket (DuckDB + local folder by default). */
import { paths, type Config } from '../config';
import type { Bucket } from './bucket';
import { DuckDbWarehouse } from './duckdb';
import { LocalBucket } from './local-bucket';
import type { Warehouse } from './warehouse';

export function createWarehouse(config: Config): Warehouse {
  switch (config.WAREHOUSE) {
    case 'duckdb':
      return new DuckDbWarehouse({ path: paths.duckdb(config) });
    case 'bigquery':
      throw new Error('WAREHOUSE=bigquery is not wired yet');
  }
}

export function createBucket(config: Config): Bucket {
  switch (config.BUCKET) {
    case 'local':
      return new LocalBucket(paths.bucket(config));
    case 's3':
      throw new Error('BUCKET=s3 is not wired yet');
  }
}

export type { Bucket, Warehouse };

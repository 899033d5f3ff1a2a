/**
 * What activities need from the outside world, built once per worker process and injected into the
 * activity factories (tests pass their own).
 */
import type { Config } from '../config';
import type { Bucket } from '../sinks/bucket';
import type { Warehouse } from '../sinks/warehouse';
import type { VideosStore } from '../sinks/videos-store';

export interface Deps {
  config: Config;
  warehouse: Warehouse;
  bucket: Bucket;
  /** The videos store (youtube-watch), when the caller opens it; else each user opens it from the config. */
  videos?: VideosStore;
}

/**
 * The videos store chosen by configuration (`VIDEOS_STORE`): the embedded SQLite file (default, under
 * LONGHAUL_DATA_DIR) or PostgreSQL. Callers call `init()` before use and `close()` at the end.
 */
import { paths, type Config } from '../config';
import { SqliteVideosStore } from './videos-sqlite';
import type { VideosStore } from './videos-store';

export function createVideosStore(config: Config): VideosStore {
  switch (config.VIDEOS_STORE) {
    case 'sqlite':
      return new SqliteVideosStore({ path: paths.videosSqlite(config) });
  }
}

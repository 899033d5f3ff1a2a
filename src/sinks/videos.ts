/**
 * The videos store chosen by configuration (`VIDEOS_STORE`): the embedded SQLite file (default,
 * `VIDEOS_SQLITE_PATH` or `videos.sqlite` under LONGHAUL_DATA_DIR) or PostgreSQL (`VIDEOS_DATABASE_URL`).
 * Callers call `init()` before use and `close()` at the end.
 */
import { ConfigError, paths, type Config } from '../config';
import { PostgresVideosStore } from './videos-postgres';
import { SqliteVideosStore } from './videos-sqlite';
import type { VideosStore } from './videos-store';

export function createVideosStore(config: Config): VideosStore {
  switch (config.VIDEOS_STORE) {
    case 'sqlite':
      return new SqliteVideosStore({ path: paths.videosSqlite(config) });
    case 'postgres':
      if (!config.VIDEOS_DATABASE_URL) throw new ConfigError('VIDEOS_STORE=postgres needs VIDEOS_DATABASE_URL');
      return new PostgresVideosStore({ connectionString: config.VIDEOS_DATABASE_URL });
  }
}

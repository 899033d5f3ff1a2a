/**
 * The videos store chosen by configuration (`VIDEOS_STORE`): the embedded SQLite file (default,
 * `VIDEOS_SQLITE_PATH` or `videos.sqlite` under LONGHAUL_DATA_DIR) or PostgreSQL (`VIDEOS_DATABASE_URL`).
 * Callers call `init()` before use and `close()` at the end.
 */
import { ConfigError, paths, type Config } from '../config';
import { PostgresVideosStore } from './videos-postgres';
import { SqliteVideosStore } from './videos-sqlite';
import type {
  StoredVideo,
  UpsertResult,
  VideoListParams,
  VideoListResult,
  VideosStore,
  VideoUpsert,
} from './videos-store';

export function createVideosStore(config: Config): VideosStore {
  switch (config.VIDEOS_STORE) {
    case 'sqlite':
      return new SqliteVideosStore({ path: paths.videosSqlite(config) });
    case 'postgres':
      if (!config.VIDEOS_DATABASE_URL) throw new ConfigError('VIDEOS_STORE=postgres needs VIDEOS_DATABASE_URL');
      return new PostgresVideosStore({ connectionString: config.VIDEOS_DATABASE_URL });
  }
}

/**
 * The configured store, opened and initialized on its first use only (a worker that never runs a watcher
 * opens no database); `close()` closes it if it was opened. The worker holds one and closes it at shutdown.
 */
export class LazyVideosStore implements VideosStore {
  private opened?: Promise<VideosStore>;
  constructor(private readonly config: Config) {}

  private store(): Promise<VideosStore> {
    return (this.opened ??= (async () => {
      const store = createVideosStore(this.config);
      try {
        await store.init();
      } catch (err) {
        await store.close().catch(() => undefined);
        throw err;
      }
      return store;
    })().catch((err: unknown) => {
      this.opened = undefined; // the next use tries again
      throw err;
    }));
  }
  async init(): Promise<void> {
    await this.store();
  }
  async upsert(videos: VideoUpsert[]): Promise<UpsertResult> {
    return (await this.store()).upsert(videos);
  }
  async newestPublishedAt(query: string): Promise<string | undefined> {
    return (await this.store()).newestPublishedAt(query);
  }
  async count(filter?: Parameters<VideosStore['count']>[0]): Promise<number> {
    return (await this.store()).count(filter);
  }
  async list(params: VideoListParams): Promise<VideoListResult> {
    return (await this.store()).list(params);
  }
  async get(videoId: string): Promise<StoredVideo | undefined> {
    return (await this.store()).get(videoId);
  }
  async close(): Promise<void> {
    const opened = this.opened;
    this.opened = undefined;
    const store = await opened?.catch(() => undefined);
    await store?.close();
  }
}

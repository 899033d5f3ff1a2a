import fs from 'node:fs';
import path from 'node:path';
import { afterAll } from 'vitest';
import { PostgresVideosStore } from '../../src/sinks/videos-postgres';
import { SqliteVideosStore } from '../../src/sinks/videos-sqlite';
import { startPostgres, type TestPostgres } from '../helpers/postgres';
import { videosStoreContract } from '../helpers/videos-contract';
import { tmpDir } from '../helpers/temporal';

const dir = tmpDir('videos-sqlite-');
let pg: TestPostgres | undefined;
afterAll(async () => {
  fs.rmSync(dir, { recursive: true, force: true });
  await pg?.stop();
});

videosStoreContract('SQLite', async () => new SqliteVideosStore({ path: path.join(dir, 'videos.sqlite') }));
// the text search tested the other way: SQLite builds the matches for each statement (no match set kept)
videosStoreContract(
  'SQLite, no match sets',
  async () => new SqliteVideosStore({ path: path.join(dir, 'videos-set.sqlite'), maxMatchRowid: 0 }),
);
videosStoreContract('PostgreSQL 15', async () => {
  pg = await startPostgres();
  return new PostgresVideosStore({ connectionString: pg.url });
});

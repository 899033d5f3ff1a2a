import fs from 'node:fs';
import path from 'node:path';
import { afterAll } from 'vitest';
import { SqliteVideosStore } from '../../src/sinks/videos-sqlite';
import { videosStoreContract } from '../helpers/videos-contract';
import { tmpDir } from '../helpers/temporal';

const dir = tmpDir('videos-sqlite-');
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

videosStoreContract('SQLite', async () => new SqliteVideosStore({ path: path.join(dir, 'videos.sqlite') }));

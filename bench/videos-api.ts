/**
 * Benchmark of the videos API over 1,000,000 stored videos (SQLite, the default store). Generates the
 * videos once (one transaction, prepared statements, the store's own schema; reused while the file holds
 * the same count), starts `longhaul api` in a process of its own, then loads it with `wrk` from a second
 * process on loopback: the first page, a deep page by offset and the SAME page by cursor (the rows are
 * checked equal first), a text search, and a search with query and date filters. Prints p50/p99 latency
 * and requests/s per case and writes bench/results/videos-api[-postgres].json.
 * With `--postgres`, the same videos are copied from the SQLite file into a throwaway PostgreSQL 15 server
 * (test/helpers/postgres.ts) and the API serves them from there.
 * `npm run bench:videos-api -- [--videos 1000000] [--duration 10] [--connections 1] [--fresh] [--postgres]`
 */
import { spawn, execFile } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import Database from 'better-sqlite3';
import { PostgresVideosStore } from '../src/sinks/videos-postgres';
import { SqliteVideosStore } from '../src/sinks/videos-sqlite';
import { encodeVideoCursor, filtersFingerprint } from '../src/sinks/videos-store';
import { startPostgres, type TestPostgres } from '../test/helpers/postgres';
import { arg } from './args';

const run = promisify(execFile);

const N = arg('videos', 1_000_000);
const DURATION = arg('duration', 10);
// one connection by default: latency of one request at a time (the server is one Node process)
const CONNECTIONS = arg('connections', 1);
const FRESH = process.argv.includes('--fresh');
const POSTGRES = process.argv.includes('--postgres');
const ROOT = path.resolve(__dirname, '..');
const OUT = path.join(ROOT, 'bench', 'results');
const DB = path.join(OUT, 'videos-api.sqlite');
const WRK = process.env.WRK ?? '/usr/bin/wrk';
const PAGE_SIZE = 20;

const WORDS = (
  'cricket india final highlights world cup news live match odi t20 test series england australia pakistan ' +
  'football goal league champions review analysis interview training skills top best moments day night ' +
  'stadium fans crowd record century wicket bowler batsman innings captain season trophy semi quarter'
).split(' ');
const QUERIES = ['cricket', 'football', 'ipl', 'world cup', 'highlights'];

/** xorshift32: the same million videos every time. */
function rng(seed: number): () => number {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return (x >>> 0) / 4294967296;
  };
}

async function generate(): Promise<number> {
  const t0 = Date.now();
  fs.rmSync(DB, { force: true });
  fs.rmSync(`${DB}-wal`, { force: true });
  fs.rmSync(`${DB}-shm`, { force: true });
  const store = new SqliteVideosStore({ path: DB });
  await store.init();
  const db = store.db;
  const insert = db.prepare(
    `INSERT INTO videos (video_id, title, description, published_at, channel_id, channel_title, thumbnails, raw,
       first_seen_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
  );
  const addQuery = db.prepare('INSERT INTO video_queries (video_id, query) VALUES (?, ?)');
  const r = rng(20240501);
  const word = () => WORDS[Math.floor(r() * WORDS.length)];
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
  const start = Date.UTC(2020, 0, 1);
  const seen = '2024-06-01T00:00:00.000Z';
  db.transaction(() => {
    for (let i = 0; i < N; i++) {
      let id = '';
      for (let k = 0; k < 11; k++) id += alphabet[Math.floor(r() * 64)];
      const title = `${word()} ${word()} ${word()} ${word()} ${i % 1000}`;
      const description = `${word()} ${word()} ${word()} ${word()} ${word()} ${word()} ${word()} ${word()}`;
      // ~4.5 years of videos, one every ~2.4 minutes on average, with random spacing
      const publishedAt = new Date(start + Math.floor((i + r()) * 142_000)).toISOString();
      const channel = Math.floor(r() * 5000);
      const thumbs = JSON.stringify({
        default: `https://i.ytimg.com/vi/${id}/default.jpg`,
        medium: `https://i.ytimg.com/vi/${id}/mqdefault.jpg`,
        high: `https://i.ytimg.com/vi/${id}/hqdefault.jpg`,
      });
      const raw = JSON.stringify({
        kind: 'youtube#searchResult',
        id: { kind: 'youtube#video', videoId: id },
        snippet: { publishedAt, channelId: `UC${channel}`, title, description, channelTitle: `Channel ${channel}` },
      });
      insert.run(id, title, description, publishedAt, `UC${channel}`, `Channel ${channel}`, thumbs, raw, seen, seen);
      addQuery.run(id, QUERIES[i % QUERIES.length]);
      if (i % 7 === 0) addQuery.run(id, QUERIES[(i + 1) % QUERIES.length]);
    }
  })();
  db.exec('DELETE FROM videos_changes'); // the change log of the generation: no reader needs it
  db.pragma('optimize');
  db.exec('ANALYZE');
  db.pragma('wal_checkpoint(TRUNCATE)');
  await store.close();
  return Date.now() - t0;
}

function storedCount(): number {
  if (!fs.existsSync(DB)) return 0;
  const db = new Database(DB, { readonly: true });
  try {
    return (db.prepare('SELECT count(*) AS n FROM videos').get() as { n: number }).n;
  } catch {
    return 0;
  } finally {
    db.close();
  }
}

/** Copies the SQLite file's videos into PostgreSQL (multi-row INSERTs of 1,000), then ANALYZE. */
async function loadPostgres(url: string): Promise<number> {
  const t0 = Date.now();
  const store = new PostgresVideosStore({ connectionString: url, poolSize: 2 });
  await store.init();
  const src = new Database(DB, { readonly: true });
  const insert = async (table: string, cols: string[], rows: unknown[][]) => {
    if (rows.length === 0) return;
    const values = rows.map((_, r) => `(${cols.map((_c, c) => `$${r * cols.length + c + 1}`).join(', ')})`);
    await store.pool.query(`INSERT INTO ${table} (${cols.join(', ')}) VALUES ${values.join(', ')}`, rows.flat());
  };
  const vcols = [
    'video_id',
    'title',
    'description',
    'published_at',
    'channel_id',
    'channel_title',
    'thumbnails',
    'raw',
  ];
  let batch: unknown[][] = [];
  for (const r of src.prepare<[], Record<string, string>>('SELECT * FROM videos').iterate()) {
    batch.push([...vcols.map((c) => r[c]), r.first_seen_at, r.updated_at]);
    if (batch.length === 1000) {
      await insert('videos', [...vcols, 'first_seen_at', 'updated_at'], batch);
      batch = [];
    }
  }
  await insert('videos', [...vcols, 'first_seen_at', 'updated_at'], batch);
  batch = [];
  for (const r of src
    .prepare<[], { video_id: string; query: string }>('SELECT video_id, query FROM video_queries')
    .iterate()) {
    batch.push([r.video_id, r.query]);
    if (batch.length === 5000) {
      await insert('video_queries', ['video_id', 'query'], batch);
      batch = [];
    }
  }
  await insert('video_queries', ['video_id', 'query'], batch);
  src.close();
  await store.pool.query('VACUUM ANALYZE videos');
  await store.pool.query('VACUUM ANALYZE video_queries');
  await store.close();
  return Date.now() - t0;
}

async function startApi(pgUrl?: string): Promise<{ url: string; stop: () => Promise<void> }> {
  const storeEnv = pgUrl
    ? { VIDEOS_STORE: 'postgres', VIDEOS_DATABASE_URL: pgUrl }
    : { VIDEOS_STORE: 'sqlite', VIDEOS_SQLITE_PATH: DB };
  const child = spawn(process.execPath, [path.join(ROOT, 'bin', 'longhaul.js'), 'api', '--port', '0'], {
    env: { ...process.env, ...storeEnv, LONGHAUL_LOG_LEVEL: 'warn' },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const url = await new Promise<string>((resolve, reject) => {
    let buf = '';
    child.stdout!.on('data', (d: Buffer) => {
      buf += d.toString();
      const m = /Videos API on (http:\/\/\S+?)\/api\/videos/.exec(buf);
      if (m) resolve(m[1]);
    });
    child.once('exit', (code) => reject(new Error(`longhaul api exited (${code})`)));
  });
  return {
    url,
    stop: () =>
      new Promise<void>((resolve) => {
        child.once('exit', () => resolve());
        child.kill('SIGINT');
      }),
  };
}

/**
 * A process committing one new video (with "wicket" in its title) every `everyMs` into the SQLite file, as
 * the watcher would; stop() ends it and says how many it wrote. The videos are deleted again at the end so
 * the file keeps its count.
 */
function startWriter(everyMs: number): { stop: () => Promise<number> } {
  const code = `
const db = require('better-sqlite3')(process.argv[1]);
db.pragma('busy_timeout = 10000');
let n = 0;
const ins = db.prepare("INSERT INTO videos (video_id, title, description, published_at, channel_id, channel_title, thumbnails, raw, first_seen_at, updated_at) VALUES (?, ?, 'bench writer', ?, 'UCw', 'W', '{}', '{}', ?, ?)");
const add = db.prepare("INSERT INTO video_queries (video_id, query) VALUES (?, 'cricket')");
const timer = setInterval(() => {
  const now = new Date().toISOString();
  db.transaction(() => { ins.run('benchw' + n, 'wicket written ' + n, now, now, now); add.run('benchw' + n); })();
  n++;
}, Number(process.argv[2]));
process.stdin.once('data', () => {
  clearInterval(timer);
  db.prepare("DELETE FROM videos WHERE video_id LIKE 'benchw%'").run();
  process.stdout.write(String(n) + '\\n');
  db.close();
});
`;
  const child = spawn(process.execPath, ['-e', code, DB, String(everyMs)], { stdio: ['pipe', 'pipe', 'inherit'] });
  return {
    stop: () =>
      new Promise<number>((resolve) => {
        let out = '';
        child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
        child.once('exit', () => resolve(Number(out.trim())));
        child.stdin!.end('stop\n');
      }),
  };
}

interface Measured {
  case: string;
  path: string;
  p50ms: number;
  p99ms: number;
  maxMs: number;
  requestsPerSec: number;
  requests: number;
  errors: number;
}

const ms = (v: string, unit: string) => Number(v) * ({ us: 0.001, ms: 1, s: 1000 } as Record<string, number>)[unit];

async function wrk(name: string, url: string, pathAndQuery: string, duration = DURATION): Promise<Measured> {
  const { stdout } = await run(
    WRK,
    ['-t1', `-c${CONNECTIONS}`, `-d${duration}s`, '--latency', '--timeout', '10s', `${url}${pathAndQuery}`],
    { maxBuffer: 1 << 20 },
  );
  if (/\b0 requests in/.test(stdout)) throw new Error(`${name}: no request completed in ${DURATION} s:\n${stdout}`);
  const pct = (p: string) => {
    const m = new RegExp(`^\\s*${p}%\\s+([\\d.]+)(us|ms|s)\\s*$`, 'm').exec(stdout);
    if (!m) throw new Error(`wrk output without ${p}%:\n${stdout}`);
    return ms(m[1], m[2]);
  };
  const lat = /Latency\s+[\d.]+(?:us|ms|s)\s+[\d.]+(?:us|ms|s)\s+([\d.]+)(us|ms|s)/.exec(stdout);
  if (!lat) throw new Error(`wrk output without a latency line:\n${stdout}`);
  const rps = Number(/Requests\/sec:\s+([\d.]+)/.exec(stdout)?.[1]);
  const requests = Number(/(\d+) requests in/.exec(stdout)?.[1]);
  const non2xx = Number(/Non-2xx or 3xx responses:\s+(\d+)/.exec(stdout)?.[1] ?? 0);
  const sockErr = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(stdout);
  const errors = non2xx + (sockErr ? sockErr.slice(1).reduce((a, b) => a + Number(b), 0) : 0);
  return {
    case: name,
    path: pathAndQuery,
    p50ms: pct('50'),
    p99ms: pct('99'),
    maxMs: ms(lat[1], lat[2]),
    requestsPerSec: rps,
    requests,
    errors,
  };
}

async function json<T>(url: string): Promise<T> {
  const res = await fetch(url);
  if (!res.ok) throw new Error(`${url}: ${res.status} ${await res.text()}`);
  return (await res.json()) as T;
}

async function main(): Promise<void> {
  if (!fs.existsSync(WRK))
    throw new Error(`wrk not found at ${WRK}: bash scripts/setup.sh --bench installs it (or set WRK)`);
  fs.mkdirSync(OUT, { recursive: true });
  let genMs: number | undefined;
  if (FRESH || storedCount() !== N) {
    process.stdout.write(`Generating ${N.toLocaleString('en')} videos into ${path.relative(ROOT, DB)} …\n`);
    genMs = await generate();
    process.stdout.write(`  generated in ${(genMs / 1000).toFixed(1)} s\n`);
  } else process.stdout.write(`Reusing ${N.toLocaleString('en')} videos in ${path.relative(ROOT, DB)}\n`);
  const sizeMb = fs.statSync(DB).size / 1e6;

  // the deep page: page N/2 by offset, and the cursor standing on the row just before it
  const deepPage = Math.floor(N / 2 / PAGE_SIZE);
  const db = new Database(DB, { readonly: true });
  const before = db
    .prepare<[number], { published_at: string; video_id: string }>(
      'SELECT published_at, video_id FROM videos ORDER BY published_at DESC, video_id DESC LIMIT 1 OFFSET ?',
    )
    .get((deepPage - 1) * PAGE_SIZE - 1)!;
  db.close();
  const cursor = encodeVideoCursor({
    ordering: '-publishedAt',
    key: before.published_at,
    videoId: before.video_id,
    direction: 'next',
    filters: filtersFingerprint({}),
  });

  let pg: TestPostgres | undefined;
  let loadMs: number | undefined;
  if (POSTGRES) {
    pg = await startPostgres({ shared_buffers: '256MB', max_wal_size: '4GB', checkpoint_timeout: '30min' });
    process.stdout.write('Copying them into a throwaway PostgreSQL 15 …\n');
    loadMs = await loadPostgres(pg.url);
    process.stdout.write(`  loaded in ${(loadMs / 1000).toFixed(1)} s\n`);
  }
  const api = await startApi(pg?.url);
  try {
    type P = { items: { videoId: string }[]; total: number };
    const byOffset = await json<P>(`${api.url}/api/videos?pageSize=${PAGE_SIZE}&page=${deepPage}`);
    const byCursor = await json<P>(`${api.url}/api/videos?pageSize=${PAGE_SIZE}&cursor=${cursor}`);
    const same =
      JSON.stringify(byOffset.items.map((v) => v.videoId)) === JSON.stringify(byCursor.items.map((v) => v.videoId));
    if (!same || byOffset.items.length !== PAGE_SIZE || byOffset.total !== N)
      throw new Error('deep page by offset and by cursor differ: the comparison would be meaningless');

    const filtered =
      '/api/videos?search=wicket%20final&query=cricket&publishedAfter=2022-01-01&publishedBefore=2023-12-31';
    const cases: [string, string][] = [
      ['first page', `/api/videos?pageSize=${PAGE_SIZE}`],
      [`deep page by offset (page ${deepPage})`, `/api/videos?pageSize=${PAGE_SIZE}&page=${deepPage}`],
      ['same page by cursor', `/api/videos?pageSize=${PAGE_SIZE}&cursor=${cursor}`],
      ['search "wicket"', '/api/videos?search=wicket'],
      ['search + query + dates', filtered],
      ['one video by id', `/api/videos/${byCursor.items[0].videoId}`],
    ];
    // each case's first request, nothing yet remembered for it (the store keeps totals and match sets
    // until something is written): the cost after every write
    const totals: Record<string, number> = {};
    const firstMs: Record<string, number> = {};
    for (const [name, p] of cases) {
      const t0 = performance.now();
      const answer = await json<P>(`${api.url}${p}`);
      firstMs[name] = performance.now() - t0;
      if (p.startsWith('/api/videos?')) totals[name] = answer.total;
    }

    const results: Measured[] = [];
    for (const [name, p] of cases) {
      await wrk(name, api.url, p).then((m) => results.push(m)); // one after the other: 2 cores
    }
    // The watcher's writes make the store forget what it kept: the common-word search again while a process
    // commits one new video every 10 s (the watcher's default tick, when it finds something new), then every
    // second. wrk corrects for coordinated omission: the requests it could not send while one waited count.
    for (const every of POSTGRES ? [] : [10, 1]) {
      const name = `search "wicket", a write every ${every} s`;
      const writer = startWriter(every * 1000);
      try {
        results.push(await wrk(name, api.url, '/api/videos?search=wicket', Math.max(DURATION, 3 * every)));
        totals[name] = (await json<P>(`${api.url}/api/videos?search=wicket`)).total;
      } finally {
        process.stdout.write(`  ${name}: ${await writer.stop()} videos written\n`);
      }
    }
    const rows = results.map((r) => ({
      case: r.case,
      matches: totals[r.case]?.toLocaleString('en') ?? '-',
      'first ms': firstMs[r.case]?.toFixed(1) ?? '-',
      'p50 ms': r.p50ms.toFixed(2),
      'p99 ms': r.p99ms.toFixed(2),
      'max ms': r.maxMs.toFixed(1),
      'req/s': r.requestsPerSec.toFixed(0),
      errors: r.errors,
    }));
    process.stdout.write(
      `\n${N.toLocaleString('en')} videos, ${POSTGRES ? 'PostgreSQL 15' : `SQLite ${sizeMb.toFixed(0)} MB`}; wrk -t1 -c${CONNECTIONS} -d${DURATION}s from another process, loopback\n`,
    );
    console.table(rows);
    const offset = results[1];
    const keyset = results[2];
    process.stdout.write(
      `deep page: offset/cursor p50 ${(offset.p50ms / keyset.p50ms).toFixed(1)}x, p99 ${(offset.p99ms / keyset.p99ms).toFixed(1)}x\n`,
    );
    fs.writeFileSync(
      path.join(OUT, POSTGRES ? 'videos-api-postgres.json' : 'videos-api.json'),
      JSON.stringify(
        {
          at: new Date().toISOString(),
          videos: N,
          dbMb: sizeMb,
          store: POSTGRES ? 'postgres' : 'sqlite',
          generationMs: genMs,
          postgresLoadMs: loadMs,
          connections: CONNECTIONS,
          durationS: DURATION,
          totals,
          results,
        },
        null,
        2,
      ),
    );
  } finally {
    await api.stop();
    await pg?.stop();
  }
}

main().catch((e: unknown) => {
  process.stderr.write(`bench: ${String((e as Error)?.stack ?? e)}\n`);
  process.exitCode = 1;
});

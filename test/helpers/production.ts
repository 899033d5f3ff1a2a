/**
 * The production profile's real parts for tests (docs/production.md): a BigQuery API (goccy's emulator) and
 * an S3 API (MinIO), started by the tests, and the environment a worker needs to use them with payload
 * encryption on.
 *
 * The emulator's memory grows by about 200 MB with every table created and dropped (each load stages into a
 * table of its own) and it panics near 4.4 GB (docs/sinks.md), so a pipeline run of more than ~20 loads
 * cannot run on one emulator process. `SupervisedEmulator` keeps it alive the way an operator would: the
 * clients talk to a small HTTP proxy; when the emulator's resident memory passes a limit, the proxy holds
 * new requests, lets those in flight finish, restarts the emulator on the same ports and database file
 * (its data survives: docs/sinks.md), then lets the held requests through. A client sees a slower answer,
 * never a refused one; a request the restart does cut (e.g. the results of a query job created just before)
 * fails like a network error, and the activity's retry makes the load again (every load is idempotent).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { freePort, tool } from '../../src/dev/servers';
import { parseConfig, paths } from '../../src/config';
import { createBucket } from '../../src/sinks';
import type { S3Bucket } from '../../src/sinks/s3-bucket';
import { startMinioServer, type TestServer } from './servers';
import { sleep } from './chaos';
import { tmpDir } from './temporal';

export const emulatorExe = tool('bigquery-emulator');
export const minioExe = tool('minio');
/** Both tools are built by `scripts/setup.sh --all`; without them the production-profile tests are skipped. */
export const productionToolsMissing = [!emulatorExe && 'bigquery-emulator', !minioExe && 'minio'].filter(
  Boolean,
) as string[];

const MINIO_USER = 'longhaul';
const MINIO_PASSWORD = 'longhaul-test-secret';

export interface Minio extends TestServer {
  /** Worker environment for a bucket of its own on this server (created). */
  bucketEnv(bucket: string): Promise<Record<string, string>>;
}

export async function startMinio(name = 'minio-production'): Promise<Minio> {
  const server = await startMinioServer({
    name,
    exe: minioExe!,
    dataDir: tmpDir('longhaul-minio-'),
    user: MINIO_USER,
    password: MINIO_PASSWORD,
  });
  return {
    ...server,
    async bucketEnv(bucket) {
      const env = {
        BUCKET: 's3',
        S3_BUCKET: bucket,
        S3_ENDPOINT: server.url,
        S3_REGION: 'us-east-1',
        S3_FORCE_PATH_STYLE: 'true',
        S3_ACCESS_KEY_ID: MINIO_USER,
        S3_SECRET_ACCESS_KEY: MINIO_PASSWORD,
      };
      await (createBucket(parseConfig(env)) as S3Bucket).ensureBucket();
      return env;
    },
  };
}

/** Resident memory of a process (Linux /proc), in bytes; 0 once it is gone. */
function rssOf(pid: number | undefined): number {
  if (!pid) return 0;
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) * 1024 : 0;
  } catch {
    return 0;
  }
}

export interface EmulatorOptions {
  name: string;
  /** Restart the emulator once its resident memory passes this (bytes). Default 1.5 GB. */
  restartAboveBytes?: number;
}

/** A BigQuery emulator (project `test`) behind a restarting proxy; see the file comment. */
export class SupervisedEmulator {
  /** The URL clients use (BIGQUERY_API_ENDPOINT): the proxy's. */
  url = '';
  restarts = 0;
  /** Highest resident memory seen (bytes). */
  peakRss = 0;
  private proc?: ChildProcess;
  private proxy?: http.Server;
  private backendPort = 0;
  private grpcPort = 0;
  private inFlight = 0;
  private gate?: Promise<void>;
  private stopped = false;
  private readonly dbFile = path.join(tmpDir('longhaul-bq-'), 'emulator.db');
  private readonly logFile: string;
  private readonly limit: number;
  private timer?: NodeJS.Timeout;

  constructor(private readonly opts: EmulatorOptions) {
    this.limit = opts.restartAboveBytes ?? 1.5 * 1024 ** 3;
    this.logFile = path.join(paths.root, 'test-results', `${opts.name}.log`);
  }

  async start(): Promise<this> {
    [this.backendPort, this.grpcPort] = [await freePort(), await freePort()];
    fs.mkdirSync(path.dirname(this.logFile), { recursive: true });
    fs.writeFileSync(this.logFile, '');
    await this.spawnEmulator();
    this.proxy = http.createServer((req, res) => void this.forward(req, res));
    this.proxy.keepAliveTimeout = 60_000;
    await new Promise<void>((resolve) => this.proxy!.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.proxy.address() as { port: number }).port}`;
    // Memory is checked between requests too: a restart waits for a moment without requests in flight.
    this.timer = setInterval(() => this.watch(), 500);
    return this;
  }

  private async spawnEmulator(): Promise<void> {
    const out = fs.openSync(this.logFile, 'a');
    const args = ['--host', '127.0.0.1', '--port', `${this.backendPort}`, '--grpc-port', `${this.grpcPort}`];
    const proc = spawn(emulatorExe!, [...args, '--project', 'test', `--database=${this.dbFile}`], {
      stdio: ['ignore', out, out],
    });
    fs.closeSync(out);
    this.proc = proc;
    const url = `http://127.0.0.1:${this.backendPort}/bigquery/v2/projects/test/datasets`;
    const deadline = Date.now() + 60_000;
    for (;;) {
      if (proc.exitCode !== null) throw new Error(`${this.opts.name} exited (${proc.exitCode}); see ${this.logFile}`);
      if (
        await fetch(url).then(
          (r) => r.ok,
          () => false,
        )
      )
        return;
      if (Date.now() > deadline) throw new Error(`${this.opts.name} did not answer in 60 s; see ${this.logFile}`);
      await sleep(150);
    }
  }

  private watch(): void {
    const rss = rssOf(this.proc?.pid);
    this.peakRss = Math.max(this.peakRss, rss);
    if (rss > this.limit) void this.recycle().catch(() => undefined);
  }

  /**
   * Restarts the emulator now, as the memory watch does: new requests wait, those in flight finish first.
   * Resolves once the new emulator answers (a restart already under way is joined).
   */
  recycle(): Promise<void> {
    if (this.stopped) return Promise.resolve();
    this.gate ??= this.restart();
    return this.gate;
  }

  /** Holds new requests, waits for those in flight, restarts the emulator on its ports and database file. */
  private async restart(): Promise<void> {
    try {
      const until = Date.now() + 120_000;
      while (this.inFlight > 0 && Date.now() < until) await sleep(50);
      const pruned = await this.pruneQueryResults().catch(() => 0);
      await this.stopEmulator();
      fs.appendFileSync(
        this.logFile,
        `\n--- restarted by the supervisor (memory limit ${this.limit} bytes; ${pruned} query-result datasets dropped) ---\n`,
      );
      await this.spawnEmulator();
      this.restarts++;
    } finally {
      this.gate = undefined;
    }
  }

  /** Query-result datasets dropped in all (pruneQueryResults). */
  prunedResults = 0;

  /**
   * Drops the anonymous datasets the emulator creates for every query's results (named by a UUID). BigQuery
   * expires them by itself after a day; the emulator keeps them for good and loads every one of them at
   * start, so without this a long run's emulator starts above its memory limit and restarts in a loop (seen
   * in the full chaos suite: ~170 of them, 1 GB at idle). Called with no request in flight.
   */
  async pruneQueryResults(): Promise<number> {
    const base = `http://127.0.0.1:${this.backendPort}/bigquery/v2/projects/test/datasets`;
    const anonymous = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
    const ids: string[] = [];
    for (let token: string | undefined, pages = 0; pages < 100; pages++) {
      const page = (await (
        await fetch(`${base}?all=true&maxResults=1000${token ? `&pageToken=${encodeURIComponent(token)}` : ''}`)
      ).json()) as { datasets?: { datasetReference: { datasetId: string } }[]; nextPageToken?: string };
      ids.push(...(page.datasets ?? []).map((d) => d.datasetReference.datasetId).filter((id) => anonymous.test(id)));
      token = page.nextPageToken;
      if (!token) break;
    }
    for (const id of ids) await fetch(`${base}/${id}?deleteContents=true`, { method: 'DELETE' });
    this.prunedResults += ids.length;
    return ids.length;
  }

  private async forward(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    while (this.gate) await this.gate.catch(() => undefined);
    this.inFlight++;
    let done = false;
    const finish = () => {
      if (done) return;
      done = true;
      this.inFlight--;
      this.watch();
    };
    const up = http.request(
      { host: '127.0.0.1', port: this.backendPort, method: req.method, path: req.url, headers: req.headers },
      (r) => {
        res.writeHead(r.statusCode ?? 502, r.headers);
        r.pipe(res);
        r.on('end', finish);
        r.on('error', finish);
      },
    );
    up.on('error', (err) => {
      finish();
      if (!res.headersSent) res.writeHead(502, { 'content-type': 'text/plain' });
      res.end(`emulator unreachable: ${err.message}`);
    });
    res.on('close', finish);
    req.pipe(up);
  }

  private async stopEmulator(): Promise<void> {
    const proc = this.proc;
    if (!proc || proc.exitCode !== null || proc.signalCode !== null) return;
    await new Promise<void>((resolve) => {
      const t = setTimeout(() => proc.kill('SIGKILL'), 10_000);
      proc.once('exit', () => (clearTimeout(t), resolve()));
      proc.kill('SIGTERM');
    });
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearInterval(this.timer);
    await this.gate?.catch(() => undefined);
    await this.stopEmulator();
    await new Promise<void>((resolve) => (this.proxy ? this.proxy.close(() => resolve()) : resolve()));
    this.proxy?.closeAllConnections();
  }

  /** Worker environment for a dataset of its own on this emulator. */
  env(dataset: string): Record<string, string> {
    return {
      WAREHOUSE: 'bigquery',
      BIGQUERY_PROJECT: 'test',
      BIGQUERY_DATASET: dataset,
      BIGQUERY_API_ENDPOINT: this.url,
    };
  }
}

/** A fresh payload encryption key (base64, 32 bytes), with strict decoding: no plaintext payload accepted. */
export function encryptionEnv(): Record<string, string> {
  return { LONGHAUL_ENCRYPTION_KEY: randomBytes(32).toString('base64'), LONGHAUL_CODEC_STRICT: '1' };
}

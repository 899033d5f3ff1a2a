/**
 * Benchmark of the titelive image download: N images of ~50 KB from the sandbox image host with a fixed
 * latency, through the pipeline's pooled keep-alive fetcher versus a naive loop that opens one connection
 * per request, at the same parallelism — over loopback HTTP, and over TLS with a distant host's connection
 * setup (`--handshake` ms of TCP + TLS round trips before the first answer on each new connection, plus the
 * real TLS handshake). The image host runs in a process of its own (its TLS and byte work does not share the
 * client's event loop). Each image is written to a local bucket as the pipeline does — and, over TLS, also
 * measured without that write (the fetch alone). Prints images/s, peak and total connections (counted by the
 * host) and the ratios; issue #16's target: pooled ≥ 3× naive over TLS, connections opened ≤ the pool size.
 * `npx tsx bench/titelive-images.ts [--images 10000] [--pool 32] [--parallel 32] [--latency 20] [--kb 50]
 * [--handshake 75]`.
 */
import { fork } from 'node:child_process';
import http from 'node:http';
import https from 'node:https';
import tls from 'node:tls';
import os from 'node:os';
import path from 'node:path';
import fs from 'node:fs';
import axios from 'axios';
import { ImageFetcher, imageUuid } from '../src/pipelines/titelive/connector/images';
import { mapLimit } from '../src/kit/pool';
import { ImageHost } from '../src/pipelines/titelive/sandbox/images';
import { LocalBucket } from '../src/sinks/local-bucket';
import { arg } from './args';

const N = arg('images', 10_000);
const POOL = arg('pool', 32);
const PARALLEL = arg('parallel', 32);
const LATENCY = arg('latency', 20);
const KB = arg('kb', 50);
const HANDSHAKE = arg('handshake', 75);

interface Outcome {
  name: string;
  seconds: number;
  perSecond: number;
  peak: number;
  total: number;
  ok: number;
}

/** The image host, in a child process: its URL, certificate, and connection counts on request. */
interface RemoteHost {
  url: string;
  certificate?: string;
  stats(): Promise<{ peak: number; total: number }>;
  stop(): Promise<void>;
}

type HostOptions = ConstructorParameters<typeof ImageHost>[0];

async function startHost(opts: HostOptions): Promise<RemoteHost> {
  const child = fork(__filename, ['--host', JSON.stringify(opts)], { execArgv: process.execArgv });
  const next = <T>() =>
    new Promise<T>((resolve, reject) => {
      child.once('message', (m) => resolve(m as T));
      child.once('exit', (code) => reject(new Error(`image host exited (${code})`)));
    });
  const { url, certificate } = await next<{ url: string; certificate?: string }>();
  return {
    url,
    certificate,
    stats: async () => {
      const answer = next<{ peak: number; total: number }>();
      child.send('stats');
      return answer;
    },
    stop: async () => {
      child.kill();
      await new Promise((r) => child.once('exit', r));
    },
  };
}

/** In the child: serve until killed. */
async function serveHost(opts: HostOptions): Promise<void> {
  const host = new ImageHost(opts);
  await host.start();
  process.on('message', () => process.send!({ peak: host.peakConnections, total: host.totalConnections }));
  process.send!({ url: host.url, certificate: host.certificate });
}

async function run(
  name: string,
  get: (url: string) => Promise<Buffer | undefined>,
  host: RemoteHost,
  store: boolean,
): Promise<Outcome> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'titelive-bench-'));
  const bucket = new LocalBucket(dir);
  // 200 distinct images (byte generation stays out of the measure); N distinct URLs and objects.
  const urls = Array.from(
    { length: N },
    (_, i) => `${host.url}/${String(i % 200).padStart(3, '0')}/cover_1_75.jpg?n=${i}`,
  );
  const t0 = performance.now();
  const res = await mapLimit(urls, PARALLEL, async (u) => {
    const body = await get(u);
    if (body && store) await bucket.put(`titelive/images/${imageUuid(u)}`, body);
    return !!body;
  });
  const seconds = (performance.now() - t0) / 1000;
  fs.rmSync(dir, { recursive: true, force: true });
  const { peak, total } = await host.stats();
  return { name, seconds, perSecond: N / seconds, peak, total, ok: res.filter(Boolean).length };
}

/** Pooled, then naive, each against a fresh host of these options; each image stored in a local bucket or not. */
async function compare(profile: string, host: HostOptions, store = true): Promise<Outcome[]> {
  const results: Outcome[] = [];
  const pooledHost = await startHost(host);
  const fetcher = new ImageFetcher({ poolSize: POOL, ca: pooledHost.certificate });
  results.push(
    await run(
      `${profile}: pooled (keep-alive, ${POOL} sockets)`,
      async (u) => {
        const o = await fetcher.fetch(u);
        return o.kind === 'ok' ? o.body : undefined;
      },
      pooledHost,
      store,
    ),
  );
  fetcher.destroy();
  await pooledHost.stop();

  const naiveHost = await startHost(host);
  // The same trust as the fetcher's, built once (not per connection: that would make naive slower than it is).
  const secureContext = naiveHost.certificate
    ? tls.createSecureContext({ ca: [...tls.rootCertificates, naiveHost.certificate] })
    : undefined;
  const naive = axios.create({
    responseType: 'arraybuffer',
    httpAgent: new http.Agent({ keepAlive: false, maxSockets: Infinity }),
    httpsAgent: new https.Agent({
      keepAlive: false,
      maxSockets: Infinity,
      ...(secureContext ? { secureContext } : {}),
    }),
    validateStatus: () => true,
  });
  results.push(
    await run(
      `${profile}: naive (one connection per request)`,
      async (u) => {
        const r = await naive.get<ArrayBuffer>(u);
        return r.status === 200 ? Buffer.from(r.data) : undefined;
      },
      naiveHost,
      store,
    ),
  );
  await naiveHost.stop();
  return results;
}

async function main() {
  const opts = {
    seed: 1,
    rates: { missing: 0, broken: 0, flaky: 0, slow: 0 },
    latencyMs: LATENCY,
    minBytes: KB * 1024 - 5 * 1024,
    maxBytes: KB * 1024 + 5 * 1024,
  };
  const tlsOpts = { ...opts, tls: { handshakeMs: HANDSHAKE } };
  const profiles: [string, Outcome[]][] = [
    ['loopback HTTP', await compare('loopback HTTP', opts)],
    [`TLS, ${HANDSHAKE} ms setup`, await compare(`TLS, ${HANDSHAKE} ms setup`, tlsOpts)],
    // the fetch alone: on 2 cores the local bucket's file writes (~1 ms of system CPU each here) bound the
    // pooled run, not the connections
    [`TLS, ${HANDSHAKE} ms setup, not stored`, await compare(`TLS, ${HANDSHAKE} ms setup, not stored`, tlsOpts, false)],
  ];

  console.log(`${N} images of ~${KB} KB, ${LATENCY} ms latency, parallelism ${PARALLEL}, node ${process.version}`);
  for (const [, results] of profiles)
    for (const r of results)
      console.log(
        `${r.name.padEnd(52)} ${r.perSecond.toFixed(0).padStart(6)} images/s  ${r.seconds.toFixed(2)} s  ` +
          `peak ${r.peak} connections, ${r.total} opened, ${r.ok}/${N} ok`,
      );
  for (const [profile, [pooled, naive]] of profiles)
    console.log(
      `${profile}: pooled/naive ${(pooled!.perSecond / naive!.perSecond).toFixed(2)}x images/s, ` +
        `${(naive!.total / Math.max(1, pooled!.total)).toFixed(0)}x fewer connections opened ` +
        `(pooled opened ${pooled!.total}, pool size ${POOL})`,
    );
  for (const [profile, [pooled, naive]] of profiles.slice(1)) {
    const ratio = pooled!.perSecond / naive!.perSecond;
    console.log(
      `target over TLS (${profile}): pooled ≥ 3.0x naive (${ratio.toFixed(2)}x: ${ratio >= 3 ? 'met' : 'NOT met'}), ` +
        `connections opened ≤ ${POOL} (${pooled!.total}: ${pooled!.total <= POOL ? 'met' : 'NOT met'})`,
    );
  }
}

const hostArg = process.argv.indexOf('--host');
(hostArg >= 0 ? serveHost(JSON.parse(process.argv[hostArg + 1]!) as HostOptions) : main()).catch((err) => {
  console.error(err);
  process.exit(1);
});

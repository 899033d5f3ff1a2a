/**
 * Benchmark of the titelive image download: N images of ~50 KB from the sandbox image host with a fixed
 * latency, through the pipeline's pooled keep-alive fetcher versus a naive loop that opens one
 * connection per request, at the same parallelism. Prints images/s, peak and total connections (counted
 * by the sandbox) and the ratio. `npx tsx bench/titelive-images.ts [--images 10000] [--pool 16]
 * [--parallel 32] [--latency 20] [--kb 50]`.
 */
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import fs from 'node:fs';
import axios from 'axios';
import { ImageFetcher, imageUuid } from '../src/pipelines/titelive/connector/images';
import { mapLimit } from '../src/kit/pool';
import { ImageHost } from '../src/pipelines/titelive/sandbox/images';
import { LocalBucket } from '../src/sinks/local-bucket';

function arg(name: string, def: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : def;
}
const N = arg('images', 10_000);
const POOL = arg('pool', 32);
const PARALLEL = arg('parallel', 32);
const LATENCY = arg('latency', 20);
const KB = arg('kb', 50);

interface Outcome {
  name: string;
  seconds: number;
  perSecond: number;
  peak: number;
  total: number;
  ok: number;
}

async function run(name: string, get: (url: string) => Promise<Buffer | undefined>, host: ImageHost): Promise<Outcome> {
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
    if (body) await bucket.put(`titelive/images/${imageUuid(u)}`, body);
    return !!body;
  });
  const seconds = (performance.now() - t0) / 1000;
  fs.rmSync(dir, { recursive: true, force: true });
  return {
    name,
    seconds,
    perSecond: N / seconds,
    peak: host.peakConnections,
    total: host.totalConnections,
    ok: res.filter(Boolean).length,
  };
}

async function main() {
  const opts = {
    seed: 1,
    rates: { missing: 0, broken: 0, flaky: 0, slow: 0 },
    latencyMs: LATENCY,
    minBytes: KB * 1024 - 5 * 1024,
    maxBytes: KB * 1024 + 5 * 1024,
  };
  const results: Outcome[] = [];

  const pooledHost = new ImageHost(opts);
  await pooledHost.start();
  const fetcher = new ImageFetcher({ poolSize: POOL });
  results.push(
    await run(
      `pooled (keep-alive, ${POOL} sockets)`,
      async (u) => {
        const o = await fetcher.fetch(u);
        return o.kind === 'ok' ? o.body : undefined;
      },
      pooledHost,
    ),
  );
  fetcher.destroy();
  await pooledHost.stop();

  const naiveHost = new ImageHost(opts);
  await naiveHost.start();
  const naive = axios.create({
    responseType: 'arraybuffer',
    httpAgent: new http.Agent({ keepAlive: false, maxSockets: Infinity }),
    validateStatus: () => true,
  });
  results.push(
    await run(
      'naive (one connection per request)',
      async (u) => {
        const r = await naive.get<ArrayBuffer>(u);
        return r.status === 200 ? Buffer.from(r.data) : undefined;
      },
      naiveHost,
    ),
  );
  await naiveHost.stop();

  console.log(`${N} images of ~${KB} KB, ${LATENCY} ms latency, parallelism ${PARALLEL}, node ${process.version}`);
  for (const r of results)
    console.log(
      `${r.name.padEnd(38)} ${r.perSecond.toFixed(0).padStart(6)} images/s  ${r.seconds.toFixed(2)} s  ` +
        `peak ${r.peak} connections, ${r.total} opened, ${r.ok}/${N} ok`,
    );
  console.log(
    `ratio pooled/naive: ${(results[0].perSecond / results[1].perSecond).toFixed(2)}x images/s, ` +
      `${(results[1].total / Math.max(1, results[0].total)).toFixed(0)}x fewer connections opened`,
  );
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});

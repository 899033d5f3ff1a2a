/**
 * Benchmark of youtube-enrich: N distinct IDs (630,000 by default) against the YouTube sandbox with
 * unlimited quota and a fixed latency, through the whole pipeline on a local dev server (dedupe, chunked
 * activities with the quota ledger, shards, manifest, DuckDB merge) versus a plain concurrent loop making
 * the same videos.list calls at the same concurrency with no Temporal and no storage. The sandbox runs in
 * a child process (its fake-data generation would otherwise starve the worker's event loop). Prints wall time,
 * calls/s and the ratio, then the dry-run plan (calls, units, days) for 1, 3 and 10 projects.
 * `npx tsx bench/youtube-enrich.ts [--ids 630000] [--latency 50] [--concurrency 32] [--calls 50]`.
 */
import { fork } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { NativeConnection, Worker, bundleWorkflowCode } from '@temporalio/worker';
import { parseConfig } from '../src/config';
import { createActivities } from '../src/activities';
import { startDevServer } from '../src/dev/servers';
import { YoutubeClient } from '../src/pipelines/youtube/connector/client';
import { VIDEO_PARTS } from '../src/pipelines/youtube/connector/enums';
import { mapLimit } from '../src/kit/pool';
import { YoutubeSandbox, type SandboxProject } from '../src/pipelines/youtube/sandbox/server';
import { youtubeKeyPairs } from '../src/pipelines/youtube/sandbox';
import { fakeId } from '../src/pipelines/youtube/sandbox/videos';
import { DuckDbWarehouse } from '../src/sinks/duckdb';
import { LocalBucket } from '../src/sinks/local-bucket';
import { planEnrichment } from '../src/pipelines/youtube/plan';
import type { YoutubeEnrichResult } from '../src/pipelines/youtube/enrich';
import { workflowsEntry } from '../src/workflow-entry';

function arg(name: string, def: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : def;
}
const N = arg('ids', 630_000);
const LATENCY = arg('latency', 50);
const CONCURRENCY = arg('concurrency', 32);
const CALLS = arg('calls', 50);
const PROJECTS: SandboxProject[] = [
  { id: 'bench-1', keys: ['bench-key-1a', 'bench-key-1b'] },
  { id: 'bench-2', keys: ['bench-key-2'] },
  { id: 'bench-3', keys: ['bench-key-3'] },
];
const quiet = { log() {}, trace() {}, debug() {}, info() {}, warn: console.warn, error: console.error };

/** The sandbox runs in a child process of its own, so its CPU does not compete with the worker's. */
async function serve(): Promise<void> {
  const sandbox = new YoutubeSandbox({ seed: 7, projects: PROJECTS, unitsPerDay: 1e12, latencyMs: LATENCY });
  const url = await sandbox.start();
  process.send!({ url });
}

async function startSandboxProcess(): Promise<{ url: string; stop: () => void }> {
  const child = fork(__filename, ['--serve', '--latency', String(LATENCY)], { execArgv: process.execArgv });
  const url = await new Promise<string>((resolve, reject) => {
    child.once('message', (m: { url: string }) => resolve(m.url));
    child.once('exit', (code) => reject(new Error(`sandbox process exited (${code})`)));
  });
  return { url, stop: () => void child.kill() };
}

async function main(): Promise<void> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'yt-bench-'));
  const ids = Array.from({ length: N }, (_, i) => fakeId(7, 'bench', i));
  const csv = path.join(dir, 'playlog.csv');
  fs.writeFileSync(csv, 'song\n' + ids.join('\n') + '\n');

  // 1. A plain concurrent loop: the same calls, keys in turn, no Temporal, nothing stored.
  const plain = await startSandboxProcess();
  const plainUrl = plain.url;
  const client = new YoutubeClient({ baseUrl: `${plainUrl}/youtube/v3`, maxSockets: CONCURRENCY });
  const keys = PROJECTS.flatMap((p) => p.keys);
  const batches: string[][] = [];
  for (let i = 0; i < N; i += 50) batches.push(ids.slice(i, i + 50));
  let t0 = performance.now();
  await mapLimit(batches, CONCURRENCY, (b, i) => client.videosList(b, VIDEO_PARTS, keys[i % keys.length]));
  const plainS = (performance.now() - t0) / 1000;
  plain.stop();

  // 2. The pipeline on a local dev server.
  const sandbox = await startSandboxProcess();
  const url = sandbox.url;
  const server = await startDevServer({ headless: true, logFile: path.join(dir, 'dev-server.log') });
  const config = parseConfig({
    LONGHAUL_DATA_DIR: dir,
    LONGHAUL_INPUT_DIR: dir, // the CSV is written there
    YOUTUBE_BASE_URL: `${url}/youtube/v3`,
    YOUTUBE_API_KEYS: youtubeKeyPairs(PROJECTS),
  });
  const deps = {
    config,
    warehouse: new DuckDbWarehouse({ path: path.join(dir, 'warehouse.duckdb') }),
    bucket: new LocalBucket(path.join(dir, 'bucket')),
  };
  const bundle = await bundleWorkflowCode({ workflowsPath: workflowsEntry(), logger: quiet });
  const worker = await Worker.create({
    connection: await NativeConnection.connect({ address: server.address }),
    taskQueue: 'yt-bench',
    workflowBundle: bundle,
    activities: createActivities(deps),
    maxConcurrentActivityTaskExecutions: CONCURRENCY + 8,
  });
  const temporal = new Client({ connection: await Connection.connect({ address: server.address }) });
  t0 = performance.now();
  const result = (await worker.runUntil(
    temporal.workflow.execute('youtubeEnrich', {
      taskQueue: 'yt-bench',
      workflowId: 'yt-bench',
      args: [{ csv, column: 'song', concurrency: CONCURRENCY, callsPerActivity: CALLS, unitsPerDay: 1_000_000_000 }],
    }),
  )) as YoutubeEnrichResult;
  const pipeS = (performance.now() - t0) / 1000;
  await temporal.workflow
    .getHandle('quota-ledger-youtube')
    .terminate('bench over')
    .catch(() => {});
  sandbox.stop();
  await server.stop();
  await deps.warehouse.close();

  const calls = batches.length;
  console.log(
    `\nyoutube-enrich benchmark: ${N} IDs, ${calls} calls, latency ${LATENCY} ms, concurrency ${CONCURRENCY}`,
  );
  console.table([
    { run: 'plain loop (no Temporal, no storage)', seconds: +plainS.toFixed(1), 'calls/s': Math.round(calls / plainS) },
    {
      run: `pipeline (${CALLS} calls/activity, shards + DuckDB)`,
      seconds: +pipeS.toFixed(1),
      'calls/s': Math.round(result.calls / pipeS),
    },
  ]);
  console.log(`pipeline / plain wall time: ${(pipeS / plainS).toFixed(2)}×`);
  console.log(
    `pipeline result: fetched ${result.fetched}, missing ${result.missing}, calls ${result.calls}, rows ${result.rowsInTable}`,
  );
  console.log('\nDry-run plan for the play log (631,348 distinct IDs, 10,000 units/day/project):');
  console.table(
    [1, 3, 10].flatMap((projects) =>
      [1, 11].map((cost) => ({
        'units/call': cost,
        ...planEnrichment({ distinctIds: 631_348, projects, unitsPerDay: 10_000, costPerCall: cost }),
      })),
    ),
  );
  fs.rmSync(dir, { recursive: true, force: true });
}

(process.argv.includes('--serve') ? serve() : main()).catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});

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
import { gzipSync } from 'node:zlib';
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
import { createWarehouse } from '../src/sinks';
import { LocalBucket } from '../src/sinks/local-bucket';
import { planEnrichment } from '../src/pipelines/youtube/plan';
import type { YoutubeEnrichResult } from '../src/pipelines/youtube/enrich';
import { workflowsEntry } from '../src/workflow-entry';
import { arg, duckdbBounds } from './args';

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
  process.on('message', () => process.send!({ cpuMs: cpuMs(process.cpuUsage()) }));
  process.send!({ url });
}

const cpuMs = (u: NodeJS.CpuUsage) => (u.user + u.system) / 1000;

interface SandboxProcess {
  url: string;
  /** CPU time the sandbox process has used so far (ms): its JSON generation and serving. */
  cpuMs: () => Promise<number>;
  stop: () => void;
}

async function startSandboxProcess(): Promise<SandboxProcess> {
  const child = fork(__filename, ['--serve', '--latency', String(LATENCY)], { execArgv: process.execArgv });
  const next = <T>() =>
    new Promise<T>((resolve, reject) => {
      child.once('message', (m) => resolve(m as T));
      child.once('exit', (code) => reject(new Error(`sandbox process exited (${code})`)));
    });
  const { url } = await next<{ url: string }>();
  return {
    url,
    cpuMs: async () => {
      const answer = next<{ cpuMs: number }>();
      child.send('cpu');
      return (await answer).cpuMs;
    },
    stop: () => void child.kill(),
  };
}

/** Where the pipeline's wall time went, from the run chain's histories (every run of the workflow ID). */
async function breakdown(temporal: Client, workflowId: string) {
  const runs: string[] = [];
  for await (const e of temporal.workflow.list({ query: `WorkflowId = '${workflowId}'` })) runs.push(e.runId);
  let events = 0;
  let bytes = 0;
  const spans = new Map<string, { first: number; last: number; count: number; queuedMs: number; runMs: number }>();
  const scheduled = new Map<string, { type: string; at: number; startedAt?: number }>();
  for (const runId of runs) {
    const history = await temporal.workflow.getHandle(workflowId, runId).fetchHistory();
    const list = history.events ?? [];
    events += list.length;
    for (const e of list) {
      bytes += JSON.stringify(e).length;
      const at = Number(e.eventTime?.seconds ?? 0) * 1000 + Math.floor((e.eventTime?.nanos ?? 0) / 1e6);
      const id = `${runId}:${String(e.eventId)}`;
      if (e.activityTaskScheduledEventAttributes)
        scheduled.set(id, { type: e.activityTaskScheduledEventAttributes.activityType?.name ?? '?', at });
      const started = e.activityTaskStartedEventAttributes;
      if (started) {
        const s = scheduled.get(`${runId}:${String(started.scheduledEventId)}`);
        if (s) s.startedAt = at;
      }
      const done = e.activityTaskCompletedEventAttributes;
      if (done) {
        const s = scheduled.get(`${runId}:${String(done.scheduledEventId)}`);
        if (!s) continue;
        const span = spans.get(s.type) ?? { first: s.at, last: at, count: 0, queuedMs: 0, runMs: 0 };
        span.first = Math.min(span.first, s.at);
        span.last = Math.max(span.last, at);
        span.count++;
        // The started event of a completed activity is written with the completion (its last attempt's start).
        span.queuedMs += (s.startedAt ?? s.at) - s.at;
        span.runMs += at - (s.startedAt ?? s.at);
        spans.set(s.type, span);
      }
    }
  }
  return { runs: runs.length, events, bytes, spans };
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
  let cpu0 = process.cpuUsage();
  let t0 = performance.now();
  await mapLimit(batches, CONCURRENCY, (b, i) => client.videosList(b, VIDEO_PARTS, keys[i % keys.length]));
  const plainS = (performance.now() - t0) / 1000;
  const plainCpu = { client: cpuMs(process.cpuUsage(cpu0)), sandbox: await plain.cpuMs() };
  plain.stop();

  // 1b. The same loop writing each answer to a local bucket as the pipeline's batch objects are written
  // (gzip JSON, fsynced): the cost of keeping every answer, without Temporal.
  const stored = await startSandboxProcess();
  const storeBucket = new LocalBucket(path.join(dir, 'plain-bucket'));
  const storeClient = new YoutubeClient({ baseUrl: `${stored.url}/youtube/v3`, maxSockets: CONCURRENCY });
  cpu0 = process.cpuUsage();
  t0 = performance.now();
  await mapLimit(batches, CONCURRENCY, async (b, i) => {
    const r = await storeClient.videosList(b, VIDEO_PARTS, keys[i % keys.length]);
    await storeBucket.put(`batches/batch-${String(i).padStart(6, '0')}.json.gz`, gzipSync(JSON.stringify(r)));
  });
  const storedS = (performance.now() - t0) / 1000;
  const storedCpu = { client: cpuMs(process.cpuUsage(cpu0)), sandbox: await stored.cpuMs() };
  stored.stop();

  // 2. The pipeline on a local dev server.
  const sandbox = await startSandboxProcess();
  const url = sandbox.url;
  const server = await startDevServer({ headless: true, logFile: path.join(dir, 'dev-server.log') });
  const config = parseConfig({
    LONGHAUL_DATA_DIR: dir,
    LONGHAUL_INPUT_DIR: dir, // the CSV is written there
    YOUTUBE_BASE_URL: `${url}/youtube/v3`,
    YOUTUBE_API_KEYS: youtubeKeyPairs(PROJECTS),
    // DuckDB bounded as a worker bounds it (DUCKDB_MEMORY_LIMIT, DUCKDB_THREADS, DUCKDB_TEMP_DIR, or their defaults).
    ...duckdbBounds(),
  });
  const deps = {
    config,
    warehouse: createWarehouse(config),
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
  cpu0 = process.cpuUsage();
  t0 = performance.now();
  const result = (await worker.runUntil(
    temporal.workflow.execute('youtubeEnrich', {
      taskQueue: 'yt-bench',
      workflowId: 'yt-bench',
      args: [{ csv, column: 'song', concurrency: CONCURRENCY, callsPerActivity: CALLS, unitsPerDay: 1_000_000_000 }],
    }),
  )) as YoutubeEnrichResult;
  const pipeS = (performance.now() - t0) / 1000;
  const pipeCpu = { client: cpuMs(process.cpuUsage(cpu0)), sandbox: await sandbox.cpuMs() };
  const history = await breakdown(temporal, 'yt-bench');
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
  const cpuCols = (c: { client: number; sandbox: number }) => ({
    'client CPU s': +(c.client / 1000).toFixed(1),
    'sandbox CPU s': +(c.sandbox / 1000).toFixed(1),
  });
  console.table([
    {
      run: 'plain loop (no Temporal, no storage)',
      seconds: +plainS.toFixed(1),
      'calls/s': Math.round(calls / plainS),
      ...cpuCols(plainCpu),
    },
    {
      run: 'plain loop + each answer stored (gzip, fsync)',
      seconds: +storedS.toFixed(1),
      'calls/s': Math.round(calls / storedS),
      ...cpuCols(storedCpu),
    },
    {
      run: `pipeline (${CALLS} calls/activity, shards + DuckDB)`,
      seconds: +pipeS.toFixed(1),
      'calls/s': Math.round(result.calls / pipeS),
      ...cpuCols(pipeCpu),
    },
  ]);
  console.log(
    `pipeline calls/s / plain calls/s: ${(plainS / pipeS).toFixed(2)}× (issue #16 target ≥ 0.9×: ${plainS / pipeS >= 0.9 ? 'met' : 'NOT met'}); ` +
      `client CPU is the bench process's (the worker's, in the pipeline run), on ${os.cpus().length} cores`,
  );
  const t = (ms: number) => +(ms / 1000).toFixed(1);
  console.log(
    `\nwhere the pipeline's ${pipeS.toFixed(1)} s went (from ${history.runs} runs' histories: ${history.events} events, ` +
      `${(history.bytes / 1e6).toFixed(1)} MB as JSON, ${(history.events / result.calls).toFixed(2)} events per call):`,
  );
  console.table(
    [...history.spans].map(([activity, s]) => ({
      activity,
      count: s.count,
      'first scheduled → last completed, s': t(s.last - s.first),
      'mean scheduled → started, s': +(s.queuedMs / s.count / 1000).toFixed(2),
      'mean started → completed, s': +(s.runMs / s.count / 1000).toFixed(2),
      'mean running at once': +(s.runMs / Math.max(1, s.last - s.first)).toFixed(1),
    })),
  );
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

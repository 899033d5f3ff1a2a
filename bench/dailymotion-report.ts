/**
 * Benchmark: Dailymotion reports of 1M and 4M rows from the sandbox into DuckDB through the whole pipeline
 * (dev server, worker, semaphore, polling, raw landing, DuckDB's own CSV reader), side by side with a plain
 * download + csv-parse of the same report in the same run, and with DuckDB's `read_csv` of the landed files
 * into a typed table (the physical limit). Each phase runs in a fresh process of its own — the sandbox too —
 * so the peak RSS printed is that phase's alone (getrusage maxrss). Prints the ratios issue #16 asks for:
 * pipeline ≤ 1.0× plain, worker peak RSS < 300 MB and within 10% between the sizes.
 *
 *   npx tsx bench/dailymotion-report.ts [--rows 1000000,4000000]
 *   DUCKDB_MEMORY_LIMIT=64MB npx tsx bench/dailymotion-report.ts   # the worker's DuckDB settings, as a worker reads them
 */
import { fork } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parse } from 'csv-parse';
import { bundleWorkflowCode, NativeConnection } from '@temporalio/worker';
import { Client, Connection } from '@temporalio/client';
import { DuckDBInstance } from '@duckdb/node-api';
import { parseConfig } from '../src/config';
import { DailymotionClient } from '../src/pipelines/dailymotion/connector/client';
import { startDevServer } from '../src/dev/servers';
import {
  DailymotionSandbox,
  DM_SANDBOX_CLIENT_ID,
  DM_SANDBOX_CLIENT_SECRET,
} from '../src/pipelines/dailymotion/sandbox';
import { createDeps, createWorker } from '../src/worker';
import { workflowsEntry } from '../src/workflow-entry';
import { duckdbBounds } from './args';

const DAYS = 180;
const ask = {
  metrics: ['VIEWS', 'TIME_WATCHED_SECONDS'],
  dimensions: ['DAY', 'VIDEO_ID'],
  product: 'CONTENT',
  startDate: '2026-01-01',
  endDate: '2026-06-29',
};
const quiet = { log() {}, trace() {}, debug() {}, info() {}, warn: console.warn, error: console.error };
const mb = (kb: number) => `${(kb / 1024).toFixed(0)} MB`;
const peakKb = () => process.resourceUsage().maxRSS;

function arg(name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

type Phase =
  | { phase: 'sandbox'; rows: number }
  | { phase: 'plain'; url: string }
  | { phase: 'pipeline'; url: string; address: string; bundle: string; dir: string; id: string };

interface Measured {
  rows: number;
  ms: number;
  peakKb: number;
  files?: number;
  landed?: string[];
}

const envOf = (url: string) => ({
  DM_BASE_URL: url,
  DM_CLIENT_API: DM_SANDBOX_CLIENT_ID,
  DM_CLIENT_SECRET: DM_SANDBOX_CLIENT_SECRET,
});

/** One phase, in this (child) process; its answer goes back to the parent. */
async function child(p: Phase): Promise<void> {
  if (p.phase === 'sandbox') {
    const videos = Math.ceil(p.rows / DAYS);
    const sandbox = new DailymotionSandbox({ generationMs: 0, rowsPerFile: 250_000, catalog: { videos } });
    process.send!({ url: await sandbox.start(0) });
    return; // serves until killed
  }
  if (p.phase === 'plain') {
    // Ask, download every file, parse with csv-parse: what a script does.
    const dm = DailymotionClient.fromConfig(parseConfig(envOf(p.url)));
    const t0 = performance.now();
    const token = await dm.askReport(ask as never);
    const { links } = await dm.getReport(token);
    let rows = 0;
    for (const link of links)
      for await (const _ of (await dm.downloadCsv(link)).pipe(parse({ bom: true, from_line: 2 }))) rows++;
    const m: Measured = { rows, ms: performance.now() - t0, peakKb: peakKb(), files: links.length };
    process.send!(m);
    return;
  }
  // The pipeline: a worker (defaults of `longhaul worker`: DuckDB's memory limit, threads) and one run.
  // DuckDB's settings as a worker takes them (DUCKDB_MEMORY_LIMIT, DUCKDB_THREADS, DUCKDB_TEMP_DIR), else its defaults.
  const duckdb = duckdbBounds();
  const config = parseConfig({
    ...envOf(p.url),
    ...duckdb,
    LONGHAUL_DATA_DIR: p.dir,
    LONGHAUL_TASK_QUEUE: `bench-dm-${p.id}`,
  });
  const connection = await NativeConnection.connect({ address: p.address });
  const deps = createDeps(config);
  const worker = await createWorker({ connection, deps, workflowBundle: { codePath: p.bundle } });
  const client = new Client({ connection: await Connection.connect({ address: p.address }) });
  const t0 = performance.now();
  const result = (await worker.runUntil(
    client.workflow.execute('dailymotionReport', {
      taskQueue: config.LONGHAUL_TASK_QUEUE,
      workflowId: `bench-dailymotion-${p.id}`,
      args: [
        {
          ...ask,
          windowDays: DAYS,
          table: `bench_dm_${p.id}`,
          poll: { initialDelay: '100ms', factor: 1, maxDelay: '100ms' },
        },
      ],
    }),
  )) as { rowsLoaded: number };
  const ms = performance.now() - t0;
  await deps.warehouse.close();
  const landed = (await deps.bucket.list('landed/'))
    .filter((o) => o.key.endsWith('.csv.gz'))
    .map((o) => path.join(config.LONGHAUL_DATA_DIR, 'bucket', o.key));
  const m: Measured = { rows: result.rowsLoaded, ms, peakKb: peakKb(), landed };
  process.send!(m);
  await connection.close();
}

function run<T>(p: Phase, keep = false): Promise<{ value: T; stop: () => void }> {
  // Each phase runs as `longhaul` runs (bin/longhaul.js): Node with tsx's CommonJS hook only. `npx tsx` (which
  // runs this script) also starts an ES-module loader thread, ~40 MB that a `longhaul worker` does not carry.
  const c = fork(__filename, ['--phase', JSON.stringify(p)], { execArgv: ['--require', require.resolve('tsx/cjs')] });
  return new Promise((resolve, reject) => {
    c.once('message', (value: T) => {
      if (!keep) c.kill();
      resolve({ value, stop: () => void c.kill() });
    });
    c.once('exit', (code) => reject(new Error(`${p.phase} process exited (${code})`)));
  });
}

/** DuckDB's own reader on the landed files: a typed table, in a fresh database (the limit of the load). */
async function readCsvLimit(files: string[], dir: string): Promise<number> {
  const db = await DuckDBInstance.create(path.join(dir, 'limit.duckdb'), { memory_limit: '256MB', threads: '2' });
  const c = await db.connect();
  const list = `[${files.map((f) => `'${f}'`).join(', ')}]`;
  const t0 = performance.now();
  await c.run(
    `CREATE TABLE t AS SELECT * FROM read_csv(${list}, header = true, auto_detect = false, ` +
      `columns = {'day': 'DATE', 'video_id': 'VARCHAR', 'views': 'BIGINT', 'time_watched_seconds': 'BIGINT'})`,
  );
  const ms = performance.now() - t0;
  c.closeSync();
  db.closeSync();
  return ms;
}

async function main(): Promise<void> {
  const sizes = (arg('rows') ?? '1000000,4000000').split(',').map(Number);
  const server = await startDevServer({ headless: true });
  const bundleFile = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'lh-bench-bundle-')), 'workflows.js');
  fs.writeFileSync(bundleFile, (await bundleWorkflowCode({ workflowsPath: workflowsEntry(), logger: quiet })).code);
  const results: { rows: number; plain: Measured; pipe: Measured; limitMs: number }[] = [];
  try {
    for (const rows of sizes) {
      const sandbox = await run<{ url: string }>({ phase: 'sandbox', rows }, true);
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lh-bench-dm-'));
      try {
        const { url } = sandbox.value;
        const plain = (await run<Measured>({ phase: 'plain', url })).value;
        const id = String(rows);
        const pipe = (
          await run<Measured>({ phase: 'pipeline', url, address: server.address, bundle: bundleFile, dir, id })
        ).value;
        const limitMs = await readCsvLimit(pipe.landed ?? [], dir);
        results.push({ rows, plain, pipe, limitMs });
        const rate = (n: number, ms: number) => `${Math.round(n / (ms / 1000)).toLocaleString('en')} rows/s`;
        console.log(`\n${plain.rows.toLocaleString('en')} rows in ${plain.files} CSV file(s)`);
        console.log(
          `  plain download + csv-parse : ${rate(plain.rows, plain.ms)} (${(plain.ms / 1000).toFixed(1)} s), peak RSS ${mb(plain.peakKb)}`,
        );
        console.log(
          `  pipeline → DuckDB          : ${rate(pipe.rows, pipe.ms)} (${(pipe.ms / 1000).toFixed(1)} s), worker peak RSS ${mb(pipe.peakKb)}`,
        );
        console.log(
          `  DuckDB read_csv of the landed files (the limit): ${rate(plain.rows, limitMs)} (${(limitMs / 1000).toFixed(2)} s)`,
        );
        console.log(
          `  ratio pipeline/plain ${(pipe.ms / plain.ms).toFixed(2)}× (target ≤ 1.0×), pipeline/limit ` +
            `${(pipe.ms / limitMs).toFixed(1)}×; rows loaded = rows parsed: ${pipe.rows === plain.rows}`,
        );
      } finally {
        sandbox.stop();
        fs.rmSync(dir, { recursive: true, force: true });
      }
    }
  } finally {
    await server.stop();
    fs.rmSync(path.dirname(bundleFile), { recursive: true, force: true });
  }
  if (results.length >= 2) {
    const [a, b] = [results[0]!, results.at(-1)!];
    const growth = b.pipe.peakKb / a.pipe.peakKb - 1;
    console.log(`\nthe worker's DuckDB memory_limit: ${process.env.DUCKDB_MEMORY_LIMIT ?? '256MB (the default)'}`);
    console.log(
      `worker peak RSS ${mb(a.pipe.peakKb)} at ${a.rows.toLocaleString('en')} rows, ${mb(b.pipe.peakKb)} at ` +
        `${b.rows.toLocaleString('en')}: ${(growth * 100).toFixed(1)}% (target < 300 MB, within 10%)`,
    );
  }
}

const phase = arg('phase');
(phase ? child(JSON.parse(phase) as Phase) : main()).then(
  () => {
    if (!phase) process.exit(0);
  },
  (err) => {
    console.error(err);
    process.exit(1);
  },
);

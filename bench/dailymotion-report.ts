/**
 * Benchmark: a 1,000,000-row Dailymotion report from the sandbox into DuckDB through the whole pipeline
 * (dev server, worker, semaphore, polling, streamed download + parse + staged load), against a plain parse
 * of the same CSV files (download + csv-parse, no Temporal, no warehouse), measured in the same run.
 * Prints rows/s, peak RSS of each phase and the ratio. `npx tsx bench/dailymotion-report.ts [rows]`
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parse } from 'csv-parse';
import { NativeConnection } from '@temporalio/worker';
import { Client } from '@temporalio/client';
import { parseConfig } from '../src/config';
import { DailymotionClient } from '../src/pipelines/dailymotion/connector/client';
import { startDevServer } from '../src/dev/servers';
import {
  DailymotionSandbox,
  DM_SANDBOX_CLIENT_ID,
  DM_SANDBOX_CLIENT_SECRET,
} from '../src/pipelines/dailymotion/sandbox';
import { createDeps, createWorker } from '../src/worker';

const DAYS = 180;
const rowsWanted = Number(process.argv[2] ?? 1_000_000);
const videos = Math.ceil(rowsWanted / DAYS);
const ask = {
  metrics: ['VIEWS', 'TIME_WATCHED_SECONDS'],
  dimensions: ['DAY', 'VIDEO_ID'],
  product: 'CONTENT',
  startDate: '2026-01-01',
  endDate: '2026-06-29',
};

function rssSampler() {
  let peak = process.memoryUsage().rss;
  const t = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 50);
  return { stop: () => (clearInterval(t), Math.max(peak, process.memoryUsage().rss)) };
}
const mb = (b: number) => `${(b / 1048576).toFixed(0)} MB`;

async function main() {
  const sandbox = new DailymotionSandbox({ generationMs: 0, rowsPerFile: 250_000, catalog: { videos } });
  const url = await sandbox.start(0);
  const env = { DM_BASE_URL: url, DM_CLIENT_API: DM_SANDBOX_CLIENT_ID, DM_CLIENT_SECRET: DM_SANDBOX_CLIENT_SECRET };
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lh-bench-'));
  const config = parseConfig({ ...env, LONGHAUL_DATA_DIR: dir, LONGHAUL_TASK_QUEUE: 'bench-dm' });

  // 1. Plain: ask, download every file, parse with csv-parse.
  global.gc?.();
  const plainRss = rssSampler();
  const t0 = performance.now();
  const dm = DailymotionClient.fromConfig(config);
  const token = await dm.askReport(ask as never);
  const { links } = await dm.getReport(token);
  let plainRows = 0;
  for (const link of links) {
    for await (const _ of (await dm.downloadCsv(link)).pipe(parse({ bom: true, from_line: 2 }))) plainRows++;
  }
  const plainMs = performance.now() - t0;
  const plainPeak = plainRss.stop();

  // 2. The pipeline on a real dev server.
  const server = await startDevServer({ headless: true });
  const connection = await NativeConnection.connect({ address: server.address });
  const deps = createDeps(config);
  const worker = await createWorker({ connection, deps });
  const client = new Client({
    connection: await (await import('@temporalio/client')).Connection.connect({ address: server.address }),
  });
  global.gc?.();
  const pipeRss = rssSampler();
  const t1 = performance.now();
  const result = (await worker.runUntil(
    client.workflow.execute('dailymotionReport', {
      taskQueue: 'bench-dm',
      workflowId: 'bench-dailymotion',
      args: [
        { ...ask, windowDays: DAYS, table: 'bench_dm', poll: { initialDelay: '100ms', factor: 1, maxDelay: '100ms' } },
      ],
    }),
  )) as { rowsLoaded: number };
  const pipeMs = performance.now() - t1;
  const pipePeak = pipeRss.stop();
  await deps.warehouse.close();
  await connection.close();
  await server.stop();
  await sandbox.stop();

  console.log(`report: ${plainRows} rows in ${links.length} CSV file(s)`);
  console.log(
    `plain download + parse : ${(plainRows / (plainMs / 1000)).toFixed(0)} rows/s (${(plainMs / 1000).toFixed(1)} s), peak RSS ${mb(plainPeak)}`,
  );
  console.log(
    `pipeline → DuckDB      : ${(result.rowsLoaded / (pipeMs / 1000)).toFixed(0)} rows/s (${(pipeMs / 1000).toFixed(1)} s), peak RSS ${mb(pipePeak)}`,
  );
  console.log(
    `ratio pipeline/plain   : ${(pipeMs / plainMs).toFixed(2)}× the time; rows loaded = rows parsed: ${result.rowsLoaded === plainRows}`,
  );
  fs.rmSync(dir, { recursive: true, force: true });
}

main().then(
  () => process.exit(0),
  (err) => {
    console.error(err);
    process.exit(1);
  },
);

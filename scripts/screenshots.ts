/**
 * `npm run screenshots`: takes the docs' Web UI screenshots (docs/img/*.png) from a real run, in headless
 * Chromium. Starts a private stack (dev server + Web UI on free ports, a temporary data folder, the
 * Dailymotion sandbox, a worker), runs the demo pipeline, creates a schedule, then photographs the
 * workflow list filtered by LonghaulPipeline, a run in progress (summary, details, current details), its
 * progress query, the timelines of the run and of one report window, and the schedule.
 *
 * Needs Chromium: CHROMIUM_PATH, default /usr/bin/chromium (Debian: `apt-get install chromium`).
 * `--out <dir>` writes elsewhere than docs/img.
 */
import { CHROMIUM_ARGS, CHROMIUM_PATH } from '../src/dev/chromium';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { chromium, type Page } from 'playwright-core';
import { connectClient } from '../src/cli/connect';
import { buildInput, pipelineByName, runPipeline } from '../src/cli/run';
import { createSchedule } from '../src/cli/schedule';
import { startStack } from '../src/cli/stack';
import { startApiServer } from '../src/api/server';
import { createVideosStore } from '../src/sinks/videos';
import { freePort } from '../src/dev/servers';
import type { DailymotionSandbox } from '../src/pipelines/dailymotion/sandbox';
import { addDays, toIso } from '../src/shared/dates';
import { limiterWorkflowId } from '../src/pipelines/datorama/shared';
import { fingerprint } from '../src/node/fingerprint';
import { progressQuery } from '../src/shared/messages';

const ROOT = path.resolve(__dirname, '..');
const outArg = process.argv.indexOf('--out');
const OUT = outArg > 0 ? path.resolve(process.argv[outArg + 1]) : path.join(ROOT, 'docs', 'img');
const MAX_BYTES = 300 * 1024;
const log = (line: string) => process.stdout.write(`[screenshots] ${line}\n`);

async function main(): Promise<void> {
  if (!fs.existsSync(CHROMIUM_PATH))
    throw new Error(`No Chromium at ${CHROMIUM_PATH}: apt-get install chromium, or set CHROMIUM_PATH`);
  fs.mkdirSync(OUT, { recursive: true });
  // A private stack: nothing of the user's own dev server or data is touched.
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'longhaul-screenshots-'));
  const [port, uiPort] = [await freePort(), await freePort()];
  Object.assign(process.env, {
    LONGHAUL_DATA_DIR: dataDir,
    TEMPORAL_ADDRESS: `127.0.0.1:${port}`,
    TEMPORAL_UI_URL: `http://127.0.0.1:${uiPort}`,
    LONGHAUL_LOG_LEVEL: process.env.LONGHAUL_LOG_LEVEL ?? 'warn',
  });
  const stack = await startStack({ sandboxes: ['dailymotion', 'youtube', 'datorama'], log });
  const userDataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'longhaul-chromium-'));
  const browser = await chromium.launchPersistentContext(userDataDir, {
    executablePath: CHROMIUM_PATH,
    headless: true,
    viewport: { width: 1400, height: 860 },
    args: CHROMIUM_ARGS,
  });
  try {
    const ui = stack.config.TEMPORAL_UI_URL;
    const ns = stack.config.TEMPORAL_NAMESPACE;
    const client = await connectClient(stack.config);
    const page = browser.pages()[0] ?? (await browser.newPage());
    const shot = async (
      name: string,
      url: string,
      caption: string,
      ready: (p: Page) => Promise<unknown>,
      prepare?: (p: Page) => Promise<unknown>,
      height = 860,
    ) => {
      await page.setViewportSize({ width: 1400, height });
      // Not 'networkidle': the UI keeps polling a running workflow.
      await page.goto(url, { waitUntil: 'load' });
      const file = path.join(OUT, `${name}.png`);
      try {
        await ready(page);
        await page.waitForTimeout(1500); // let the last fetches paint
        await prepare?.(page);
      } catch (err) {
        await page.screenshot({ path: file.replace(/\.png$/, '.failed.png') });
        throw err;
      }
      await page.screenshot({ path: file });
      const size = fs.statSync(file).size;
      log(`${path.relative(ROOT, file)} (${Math.round(size / 1024)} KB): ${caption}`);
      if (size > MAX_BYTES) log(`  warning: over ${MAX_BYTES / 1024} KB`);
    };
    const text = (t: string | RegExp) => (p: Page) => p.getByText(t).first().waitFor({ timeout: 30_000 });
    const workflowPath = async (workflowId: string) =>
      `${ui}/namespaces/${ns}/workflows/${encodeURIComponent(workflowId)}/${(await client.workflow.getHandle(workflowId).describe()).runId}`;

    // A run that waits on a long durable timer: a "waiting" run in the list.
    const selftest = pipelineByName('selftest');
    const sleeper = buildInput(selftest, {}, ['--sleep', '6h', '--label', 'nightly-check']);
    await runPipeline(client, stack.config, selftest, sleeper, {}, log);

    // A YouTube watcher filling the videos store behind the dashboard (`longhaul api`).
    const watch = pipelineByName('youtube-watch');
    const watchInput = buildInput(watch, {}, [
      ...['--query', 'cricket', '--interval-seconds', '5'],
      ...['--backfill-from', new Date(Date.now() - 6 * 3600_000).toISOString()],
    ]);
    const watcher = await runPipeline(client, stack.config, watch, watchInput, {}, log);

    // Datorama: a bulk process under the token's limiter (60 calls/min), running beside the report below.
    const dato = pipelineByName('datorama-process');
    const datoRun = await runPipeline(
      client,
      stack.config,
      dato,
      buildInput(dato, {}, [
        ...['--streams', '10001,10002,10003,10004,10005,10006,10007,10008'],
        ...['--start', addDays(toIso(Date.now()), -20), '--end', addDays(toIso(Date.now()), -1), '--batch-size', '1'],
      ]),
      {},
      log,
    );

    // The demo pipeline (95 days → 4 windows, at most 2 reports generating at once, 12 s per report), and a
    // smaller report on the same account that competes for its report slots.
    (stack.sandboxes!.servers.dailymotion as DailymotionSandbox).configure({ generationMs: 12_000 });
    const end = addDays(toIso(Date.now()), -1);
    const dm = pipelineByName('dailymotion-report');
    const report = (days: number, metrics: string, dimensions: string, table: string) =>
      buildInput(dm, {}, [
        ...['--metrics', metrics, '--dimensions', dimensions, '--product', 'CONTENT'],
        ...['--start-date', addDays(end, -(days - 1)), '--end-date', end, '--table', table],
        ...['--poll', JSON.stringify({ initialDelay: '2s', factor: 1.5, maxDelay: '10s' })],
      ]);
    const run = await runPipeline(
      client,
      stack.config,
      dm,
      report(95, 'VIEWS,TIME_WATCHED_SECONDS', 'DAY,VIDEO_ID,VISITOR_COUNTRY', 'dailymotion_demo'),
      {},
      log,
    );
    const small = await runPipeline(client, stack.config, dm, report(10, 'VIEWS', 'DAY', 'dailymotion_daily'), {}, log);
    const handle = client.workflow.getHandle(run.workflowId);
    const runPath = `${ui}/namespaces/${ns}/workflows/${encodeURIComponent(run.workflowId)}/${run.runId}`;

    // While it runs: reports generating, windows waiting for a slot, a few polls and timers on the timeline.
    for (let i = 0; i < 60; i++) {
      const p = await handle.query(progressQuery).catch(() => undefined);
      if (p && /generating/.test(p.phase) && /waiting for report slot/.test(p.phase)) break;
      await new Promise((r) => setTimeout(r, 500));
    }
    await new Promise((r) => setTimeout(r, 6000));
    await shot(
      'run-in-progress',
      `${runPath}/user-metadata`,
      'a run in progress: its summary and details (from the client), current details (its progress), one child workflow per report window',
      text('Current Details'),
      undefined,
      1250,
    );
    const windows = (await handle.fetchHistory()).events
      ?.map((e) => e.startChildWorkflowExecutionInitiatedEventAttributes?.workflowId)
      .filter((id): id is string => !!id);
    let generating = windows![0];
    for (const id of windows!) {
      const p = await client.workflow
        .getHandle(id)
        .query(progressQuery)
        .catch(() => undefined);
      if (p?.waiting) generating = id;
    }
    await shot(
      'window-progress-query',
      `${await workflowPath(generating)}/query`,
      'the progress query of a report window that is waiting for its report',
      text('Run Query'),
      async (p) => {
        await p.getByRole('button', { name: 'Run Query' }).click();
        await p.getByText('"phase"').first().waitFor({ timeout: 15_000 });
      },
    );

    await handle.result();
    await client.workflow.getHandle(small.workflowId).result();
    log(`run completed: ${(await handle.describe()).memo?.outcome as string}`);
    await shot(
      'run-summary',
      `${runPath}/user-metadata`,
      'the finished run: summary, details, outcome in the current details',
      text('Current Details'), // the Markdown itself is drawn in an iframe
      (p) => p.waitForTimeout(2000),
      1120,
    );
    await shot(
      'window-timeline',
      `${await workflowPath(generating)}/history`,
      'the timeline of one report window: slot, ask, polls on durable timers, download and load',
      text('Event History'),
      (p) =>
        p
          .getByText('Event History')
          .first()
          .evaluate((el) => el.scrollIntoView({ block: 'start' })),
    );
    const query = encodeURIComponent('LonghaulPipeline="dailymotion-report"');
    await shot(
      'workflow-list',
      `${ui}/namespaces/${ns}/workflows?query=${query}`,
      'the workflow list filtered by the LonghaulPipeline search attribute',
      text(small.workflowId),
      async (p) => {
        // Fold the saved-views panel: room for the type and time columns.
        await p.getByText('Saved Views').first().locator('..').locator('button').first().click();
        await p.waitForTimeout(800);
      },
    );

    // The Datorama run's timeline (each call says what it does) and its token limiter's (why it waits).
    await client.workflow.getHandle(datoRun.workflowId).result();
    await shot(
      'datorama-timeline',
      `${await workflowPath(datoRun.workflowId)}/history`,
      'a datorama-process run: each platform call under a permit, summarised as what it does',
      text('Event History'),
      (p) =>
        p
          .getByText('Event History')
          .first()
          .evaluate((el) => el.scrollIntoView({ block: 'start' })),
    );
    const limiterId = limiterWorkflowId(fingerprint(stack.config.DATORAMA_TOKEN!));
    await shot(
      'datorama-limiter',
      `${await workflowPath(limiterId)}/history`,
      "the token's limiter: each timer says why the next permit waits (spacing, a full window, the daily cap, a 429)",
      text('Event History'),
      (p) =>
        p
          .getByText('Event History')
          .first()
          .evaluate((el) => el.scrollIntoView({ block: 'start' })),
    );
    await client.workflow.getHandle(limiterId).terminate('screenshots taken');

    // The videos dashboard, on the store the watcher has been filling during the run.
    const store = createVideosStore(stack.config);
    await store.init();
    const api = await startApiServer({ store, port: 0 });
    try {
      await shot(
        'videos-dashboard',
        `${api.url}/`,
        'the videos dashboard (`longhaul api`) on the store the youtube-watch run fills',
        (p) => p.locator('#videos tbody tr').first().waitFor({ timeout: 30_000 }),
      );
    } finally {
      await api.close();
      await store.close();
      await client.workflow.getHandle(watcher.workflowId).cancel();
    }

    // Yesterday's report every morning: each run resolves `yesterday` from the time it is due.
    const daily = buildInput(dm, {}, [
      ...['--metrics', 'VIEWS', '--dimensions', 'DAY,VIDEO_ID', '--table', 'dailymotion_daily'],
      ...['--start-date', 'yesterday', '--end-date', 'yesterday'],
    ]);
    await createSchedule(
      client,
      dm,
      daily,
      { id: 'dailymotion-daily', cron: '0 6 * * *', overlap: 'skip', catchup: '1d' },
      stack.config,
    );
    await shot(
      'schedule',
      `${ui}/namespaces/${ns}/schedules/dailymotion-daily`,
      'a schedule: cron, overlap policy, upcoming runs',
      text('dailymotion-daily'),
    );
  } finally {
    await browser.close();
    await stack.stop();
    fs.rmSync(userDataDir, { recursive: true, force: true });
    fs.rmSync(dataDir, { recursive: true, force: true });
  }
}

main().then(
  () => process.exit(0),
  (err: Error) => {
    process.stderr.write(`screenshots: ${err.stack ?? err.message}\n`);
    process.exit(1);
  },
);

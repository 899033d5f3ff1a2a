/**
 * `longhaul demo` (README command 1): brings up the local stack (Temporal dev server with its Web UI and a
 * persistent database, the Dailymotion sandbox, a worker), runs the `dailymotion-report` pipeline over the
 * last 95 days (4 report windows, at most 2 generating at once), prints the summary, the Web UI link and
 * a query of the DuckDB table, then stops the stack.
 */
import path from 'node:path';
import { loadConfig } from '../config';
import { logToFile } from '../node/logger';
import { addDays, toIso } from '../shared/dates';
import { parseDuration } from '../shared/durations';
import { connectClient } from './connect';
import { buildInput, pipelineByName, runPipeline } from './run';
import { startStack } from './stack';
import { createWarehouse } from '../sinks';
import { reportTableSchema } from '../pipelines/dailymotion/shared';
import type { DailymotionSandbox } from '../pipelines/dailymotion/sandbox';

export interface DemoOptions {
  /** How long the sandbox takes to generate a report. */
  generation: string;
  days: number;
  keep?: boolean;
}

export async function demo(opts: DemoOptions, out: (line: string) => void): Promise<number> {
  // The terminal tells the demo's story; the worker's and the SDK's logs go to a file.
  const logFile = path.join(loadConfig().LONGHAUL_DATA_DIR, 'demo-worker.log');
  logToFile(logFile);
  out(`Worker logs: ${logFile}`);
  const stack = await startStack({ sandboxes: ['dailymotion'] });
  try {
    const sandbox = stack.sandboxes!.servers.dailymotion as DailymotionSandbox;
    sandbox.configure({ generationMs: parseDuration(opts.generation) });
    const end = addDays(toIso(Date.now()), -1);
    const start = addDays(end, -(opts.days - 1));
    const pipeline = pipelineByName('dailymotion-report');
    const input = buildInput(pipeline, {}, [
      '--metrics',
      'VIEWS,TIME_WATCHED_SECONDS',
      '--dimensions',
      'DAY,VIDEO_ID,VISITOR_COUNTRY',
      '--product',
      'CONTENT',
      '--start-date',
      start,
      '--end-date',
      end,
      '--table',
      'dailymotion_demo',
      '--poll',
      JSON.stringify({ initialDelay: '2s', factor: 1.5, maxDelay: '10s' }),
    ]);
    out(`Demo: dailymotion-report ${start} → ${end} (${opts.days} days), sandbox report generation ${opts.generation}`);
    const client = await connectClient(stack.config);
    const outcome = await runPipeline(client, stack.config, pipeline, input, { wait: true }, out);
    if (outcome.status !== 'completed') {
      out(`Failed: ${outcome.error}`);
      return 1;
    }
    out(`Completed: ${outcome.summary}`);
    out(`Web UI: ${outcome.url}`);
    const wh = createWarehouse(stack.config);
    const schema = reportTableSchema(
      'dailymotion_demo',
      ['DAY', 'VIDEO_ID', 'VISITOR_COUNTRY'],
      ['VIEWS', 'TIME_WATCHED_SECONDS'],
    );
    const byDay = await wh.select<{ day: string; rows: number; views: number; seconds: number }>(schema, {
      groupBy: ['day'],
      aggregates: { rows: { count: true }, views: { sum: 'views' }, seconds: { sum: 'time_watched_seconds' } },
      where: { day: { gte: start, lte: end } },
      orderBy: ['day'],
    });
    const months = new Map<string, { month: string; rows: number; views: number; seconds_watched: number }>();
    for (const d of byDay) {
      const m = months.get(d.day.slice(0, 7)) ?? { month: d.day.slice(0, 7), rows: 0, views: 0, seconds_watched: 0 };
      m.rows += Number(d.rows);
      m.views += Number(d.views);
      m.seconds_watched += Number(d.seconds);
      months.set(m.month, m);
    }
    const rows = [...months.values()];
    await wh.close();
    out('DuckDB: SELECT month, count(*), sum(views), sum(time_watched_seconds) FROM dailymotion_demo GROUP BY month');
    console.table(rows);
    out(`Run it again (\`npm run demo\`): the same rows are replaced, never duplicated.`);
    if (opts.keep) {
      out(`Stack still up (Web UI ${stack.config.TEMPORAL_UI_URL}); Ctrl-C stops it.`);
      await new Promise<void>((resolve) => process.once('SIGINT', resolve));
    }
    return 0;
  } finally {
    await stack.stop();
  }
}

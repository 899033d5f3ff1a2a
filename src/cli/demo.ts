/**
 * `longhaul demo` (README command 1): brings up the local stack (Temporal dev server with its Web UI and a
 * persistent database, the Dailymotion sandbox, a worker), runs the `dailymotion-report` pipeline over the
 * last 95 days (4 report windows, at most 2 generating at once), prints the summary, the Web UI link and
 * a query of the DuckDB table, then stops the stack.
 */
import { addDays, toIso } from '../shared/dates';
import { parseDuration } from '../shared/durations';
import { connectClient } from './connect';
import { buildInput, pipelineByName, runPipeline } from './run';
import { startStack } from './stack';
import { createWarehouse } from '../sinks';
import type { DailymotionSandbox } from '../sandbox/dailymotion';

export interface DemoOptions {
  /** How long the sandbox takes to generate a report. */
  generation: string;
  days: number;
  keep?: boolean;
}

export async function demo(opts: DemoOptions, out: (line: string) => void): Promise<number> {
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
    const rows = await wh.query(
      `SELECT strftime(day, '%Y-%m') AS month, count(*) AS rows, sum(views) AS views, sum(time_watched_seconds) AS seconds_watched
       FROM dailymotion_demo WHERE day BETWEEN CAST($start AS DATE) AND CAST($end AS DATE) GROUP BY 1 ORDER BY 1`,
      { start, end },
    );
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

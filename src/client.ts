/**
 * `longhaul` — the command users type. Start and inspect pipeline runs, run the local stack, query the
 * warehouse. `longhaul --help` lists the commands.
 */
import { Command, InvalidArgumentError } from 'commander';
import { loadConfig } from './config';
import { connectClient } from './cli/connect';
import { pipelineArgs } from './cli/flags';
import { describeProgress } from './cli/render';
import { cancel, list, result, status, type ListOptions } from './cli/inspect';
import { registerSearchAttributes } from './cli/search-attributes';
import { parseDuration } from './shared/durations';
import { buildInput, follow, pipelineByName, rootCause, runPipeline } from './cli/run';
import { describeOptions, pipelineHelp } from './cli/options';
import { InputError } from './shared/validation';
import {
  deployPromote,
  deployRamp,
  deployStatus,
  formatDeployStatus,
  parsePercent,
  withDeployment,
} from './cli/deploy';
import { startStack } from './cli/stack';
import { simulate, simulationHelp, simulationOf } from './dev/simulate';
import { progressText, renderSimulation } from './cli/simulate';
import { PIPELINES } from './pipelines';
import { SANDBOXES } from './sandbox';
import { createBucket, createWarehouse } from './sinks';
import { checkExport, exportTable } from './cli/export';
import { createSchedule, DEFAULT_CATCHUP, defaultOverlap, describeSchedule, listSchedules } from './cli/schedule';
import { AesGcmCodec, keysFromEnv } from './codec/aes-codec';
import { codecServerOptionsFromEnv, createCodecServer } from './codec/codec-server';
import { runWorker } from './worker';
import { demo } from './cli/demo';
import { formatChecks, runDoctor } from './cli/doctor';
import { createVideosStore } from './sinks/videos';
import { startApiServer } from './api/server';

function apiPort(v: string): number {
  const n = Number(v);
  if (!/^\d{1,5}$/.test(v) || n > 65535) throw new InvalidArgumentError('a port number from 0 to 65535');
  return n;
}

/** Resolves on Ctrl-C (SIGINT) or SIGTERM: what the long-running commands wait for before they stop. */
const untilInterrupted = () =>
  new Promise<void>((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
  });
const program = new Command('longhaul').description('Durable data pipelines on Temporal').showHelpAfterError();

const out = (v: unknown): void =>
  void process.stdout.write((typeof v === 'string' ? v : JSON.stringify(v, null, 2)) + '\n');

/**
 * `--help` after a pipeline's name prints that pipeline's options (from its input schema); without a name,
 * the command's own help. Returns the pipeline, or undefined when help was printed.
 */
function pipelineOrHelp(name: string | undefined, opts: { help?: boolean }, cmd: Command, command: string) {
  if (!name) {
    if (opts.help) return void cmd.outputHelp();
    throw new InputError(
      `longhaul ${command}: which pipeline? One of ${Object.keys(PIPELINES).join(', ')} (\`longhaul pipelines\` describes them)`,
    );
  }
  const pipeline = pipelineByName(name);
  if (opts.help) return void out(pipelineHelp(pipeline, command));
  return pipeline;
}

/**
 * A command whose pipeline's own options come as flags after its name: they are read from the pipeline's
 * definition, so commander lets them through, and `-h` after a pipeline's name prints that pipeline's options.
 */
const pipelineFlags = (cmd: Command): Command =>
  cmd
    .helpOption(false)
    .option('-h, --help', "this help; after a pipeline's name, that pipeline's options")
    .allowUnknownOption()
    .allowExcessArguments();

program
  .command('pipelines')
  .description('List the pipelines with what each does (`longhaul run <pipeline> --help` for its options)')
  .option('--json', 'print them, with their options, as JSON')
  .action((opts: { json?: boolean }) => {
    const all = Object.values(PIPELINES);
    if (opts.json) out(all.map((p) => ({ name: p.name, description: p.description, options: describeOptions(p) })));
    else {
      const width = Math.max(...all.map((p) => p.name.length)) + 2;
      out(all.map((p) => `${p.name.padEnd(width)}${p.description}`).join('\n'));
    }
  });

pipelineFlags(
  program
    .command('run [pipeline]')
    .description(`Start a pipeline run (${Object.keys(PIPELINES).join(', ')}); pipeline options as --name value`)
    .option('--input <file>', 'input as a JSON file (flags override its fields)')
    .option('--wait', 'wait for the end, showing live progress')
    .option('--json', 'print the outcome as one JSON object')
    .option('--id <workflowId>', 'explicit workflow ID (default: derived from the input)'),
).action(
  async (
    name: string | undefined,
    opts: { input?: string; wait?: boolean; json?: boolean; id?: string; help?: boolean },
    cmd: Command,
  ) => {
    const pipeline = pipelineOrHelp(name, opts, cmd, 'run');
    if (!pipeline) return;
    const flagArgs = pipelineArgs(cmd.args.slice(1), ['--input', '--id'], ['--wait', '--json']);
    const input = buildInput(pipeline, opts, flagArgs);
    const config = loadConfig();
    const client = await connectClient(config);
    const outcome = await runPipeline(client, config, pipeline, input, opts);
    if (opts.json) out(outcome);
    else if (outcome.status === 'completed') out(`Completed: ${outcome.summary}`);
    else if (outcome.status === 'failed') out(`Failed: ${outcome.error}`);
    if (outcome.problems?.length && !opts.json)
      out(`${outcome.problems.length} problem(s):\n${outcome.problems.map((p) => `  ${p}`).join('\n')}`);
    if (outcome.status === 'failed' || outcome.problems?.length) process.exitCode = 1;
  },
);

pipelineFlags(
  program
    .command('simulate [pipeline]')
    .description(
      "Time-travel a run before starting it: the pipeline's real workflow code on the time-skipping test server " +
        'against its sandbox, set up with your limits; prints the virtual timeline (`simulate <pipeline> -h`: the --api keys)',
    )
    .option('--input <file>', 'input as a JSON file (flags override its fields)')
    .option(
      '--api <key=value>',
      "the API's behaviour and your limits, e.g. --api unitsPerDay=10000 (repeatable)",
      (v: string, prev: string[]) => [...prev, v],
      [] as string[],
    )
    .option('--at <instant>', 'virtual start: an ISO instant from now on (default: now)')
    .option('--seed <n>', "the sandbox's seed", '1')
    .option('--for <duration>', 'stop the run after this much virtual time (e.g. a watcher)', '366d')
    .option('--keep', 'keep the throwaway warehouse and bucket (their folder is printed)')
    .option('--json', 'print the report as one JSON object'),
).action(
  async (
    name: string | undefined,
    opts: {
      input?: string;
      api: string[];
      at?: string;
      seed: string;
      for: string;
      keep?: boolean;
      json?: boolean;
      help?: boolean;
    },
    cmd: Command,
  ) => {
    if (name && opts.help) {
      const p = pipelineByName(name);
      return void out(`${pipelineHelp(p, 'simulate')}\n\n${simulationHelp(simulationOf(p))}`);
    }
    const pipeline = pipelineOrHelp(name, opts, cmd, 'simulate');
    if (!pipeline) return;
    const flagArgs = pipelineArgs(
      cmd.args.slice(1).filter((a) => !/^--(input|api|at|seed|for)=/.test(a)),
      ['--input', '--api', '--at', '--seed', '--for'],
      ['--json', '--keep'],
    );
    const input = buildInput(pipeline, opts, flagArgs);
    simulationOf(pipeline);
    let at: number | undefined;
    if (opts.at !== undefined) {
      at = Date.parse(opts.at);
      if (!/^\d{4}-\d{2}-\d{2}T/.test(opts.at) || Number.isNaN(at))
        throw new InputError(`--at ${opts.at}: expected an ISO instant such as 2026-12-07T08:00:00Z`);
    }
    let maxVirtualMs: number;
    try {
      maxVirtualMs = parseDuration(opts.for);
    } catch {
      throw new InputError(`--for ${opts.for}: expected a duration such as 30d or 12h`);
    }
    const seed = Number(opts.seed);
    if (!Number.isInteger(seed) || seed < 0) throw new InputError(`--seed ${opts.seed}: expected a whole number`);
    const tty = process.stderr.isTTY;
    let lastLine = 0;
    const report = await simulate({
      pipeline,
      input,
      api: opts.api,
      at,
      seed,
      keep: opts.keep,
      maxVirtualMs,
      config: loadConfig(),
      onProgress: (p) => {
        if (tty) process.stderr.write(`\r\x1b[2K${progressText(p)}`);
        else if (p.wallMs - lastLine >= 10_000) {
          lastLine = p.wallMs;
          process.stderr.write(progressText(p) + '\n');
        }
      },
    });
    if (tty) process.stderr.write('\r\x1b[2K');
    out(opts.json ? report : renderSimulation(report));
    if (report.status === 'failed') process.exitCode = 1;
  },
);

program
  .command('status <workflowId>')
  .description('Show a run: state and progress')
  .option('--json', 'as JSON')
  .action(async (id: string, opts: { json?: boolean }) => {
    const config = loadConfig();
    const s = await status(await connectClient(config), config, id);
    if (opts.json) return out(s);
    out(`${s.workflowId} [${s.type}] ${s.status} since ${s.startTime}${s.closeTime ? ` until ${s.closeTime}` : ''}`);
    if (s.summary) out(`  ${s.summary}`);
    if (s.account || s.range)
      out(`  ${[s.account && `account ${s.account}`, s.range && `range ${s.range}`].filter(Boolean).join(', ')}`);
    if (s.progress) out(`  ${describeProgress(s.progress)}`);
    if (s.outcome) out(`  outcome: ${s.outcome}`);
    if (s.note) out(`  ${s.note}`);
    out(`  ${s.url}`);
  });

program
  .command('watch <workflowId>')
  .description('Follow a running run: live progress (plain lines without a TTY), then its outcome')
  .option('--json', 'print the outcome as one JSON object')
  .action(async (id: string, opts: { json?: boolean }) => {
    const config = loadConfig();
    const client = await connectClient(config);
    const d = await client.workflow.getHandle(id).describe();
    const pipeline = Object.values(PIPELINES).find((p) => p.workflowType === d.type);
    const outcome = await follow(client, id);
    const summary = outcome.status === 'completed' && pipeline ? pipeline.summarize(outcome.result) : undefined;
    if (opts.json) out({ ...outcome, summary });
    else
      out(
        outcome.status === 'completed'
          ? `Completed: ${summary ?? JSON.stringify(outcome.result)}`
          : `Failed: ${outcome.error}`,
      );
    if (outcome.status === 'failed') process.exitCode = 1;
  });

program
  .command('list')
  .description('List recent runs')
  .option('--pipeline <name>')
  .option('--state <state>', 'Running, Completed, Failed, …')
  .option('--account <fingerprint>', 'runs for this source account (its fingerprint, as `longhaul status` shows it)')
  .option('--from <date>', 'runs whose data range reaches this date or later (YYYY-MM-DD)')
  .option('--to <date>', 'runs whose data range starts on or before this date (YYYY-MM-DD)')
  .option('--limit <n>', 'at most n rows', (v) => Number(v), 50)
  .option('--json')
  .action(async (opts: ListOptions & { limit: number; json?: boolean }) => {
    const rows = await list(await connectClient(loadConfig()), opts);
    if (opts.json) return out(rows);
    for (const r of rows) {
      const tags = [r.account && `account ${r.account}`, r.range && `range ${r.range}`].filter(Boolean);
      out(
        `${r.startTime}  ${r.status.padEnd(10)} ${r.type.padEnd(20)} ${r.workflowId}${tags.length ? `  (${tags.join(', ')})` : ''}`,
      );
      if (r.summary || r.outcome) out(`    ${[r.summary, r.outcome].filter(Boolean).join(' — ')}`);
    }
  });

program
  .command('result <workflowId>')
  .description('Wait for and print the result of a run')
  .action(async (id: string) => out(await result(await connectClient(loadConfig()), id)));

program
  .command('cancel <workflowId>')
  .description('Ask a run to cancel (it cleans up and stops)')
  .action(async (id: string) => {
    await cancel(await connectClient(loadConfig()), id);
    out(`Cancellation requested for ${id}`);
  });

const schedule = program.command('schedule').description('Temporal Schedules that start pipelines on a cron');
pipelineFlags(
  schedule
    .command('create [pipeline]')
    .description('Start <pipeline> on a cron; pipeline options as --name value or --input file.json')
    .option('--cron <expr>', 'five-field cron, e.g. "0 6 * * *" (required)')
    .option('--id <scheduleId>', 'schedule ID (required)')
    .option('--input <file>', 'input as a JSON file')
    .option(
      '--overlap <policy>',
      'skip | buffer-one | buffer-all | cancel-other | allow-all (default: allow-all for relative days, else skip)',
    )
    .option('--catchup <duration>', 'missed runs within this window are taken after an outage', DEFAULT_CATCHUP)
    .option('--timezone <tz>', 'time zone of the cron', 'UTC'),
).action(
  async (
    name: string | undefined,
    opts: {
      cron?: string;
      id?: string;
      input?: string;
      overlap?: string;
      catchup: string;
      timezone: string;
      help?: boolean;
    },
    cmd: Command,
  ) => {
    const pipeline = pipelineOrHelp(name, opts, cmd, 'schedule create');
    if (!pipeline) return;
    // Checked here, not by commander, so that `schedule create <pipeline> --help` needs neither.
    if (!opts.cron) throw new InputError('--cron: required, a five-field cron, e.g. "0 6 * * *"');
    if (!opts.id) throw new InputError('--id: required, the schedule ID, e.g. daily-report');
    const flagArgs = pipelineArgs(cmd.args.slice(1), [
      '--cron',
      '--id',
      '--input',
      '--overlap',
      '--catchup',
      '--timezone',
    ]);
    const input = buildInput(pipeline, opts, flagArgs);
    const config = loadConfig();
    const { cron, id } = opts;
    await createSchedule(await connectClient(config), pipeline, input, { ...opts, cron, id }, config);
    out(
      `Schedule ${opts.id}: ${pipeline.name} at "${opts.cron}" (${opts.timezone}), overlap ${opts.overlap ?? defaultOverlap(input)}, catch-up ${opts.catchup}`,
    );
  },
);
schedule
  .command('list')
  .option('--json')
  .action(async (opts: { json?: boolean }) => {
    const rows = await listSchedules(await connectClient(loadConfig()));
    if (opts.json) return out(rows);
    for (const r of rows) {
      out(
        `${r.scheduleId.padEnd(30)} ${String(r.pipeline).padEnd(20)} ${r.paused ? 'paused ' : 'active '} next ${r.next ?? '-'}`,
      );
      for (const w of r.warnings) process.stderr.write(`warning: schedule ${r.scheduleId}: ${w}\n`);
    }
  });
schedule
  .command('describe <scheduleId>')
  .description("A schedule's state, policies, and warnings for runs it missed or skipped")
  .option('--json')
  .action(async (id: string, opts: { json?: boolean }) => {
    const r = await describeSchedule(await connectClient(loadConfig()), id);
    if (opts.json) return out(r);
    out(
      `${r.scheduleId}: ${r.pipeline ?? '?'}, ${r.paused ? 'paused' : 'active'}, overlap ${r.overlap}, next ${r.next ?? '-'}`,
    );
    out(`  missed (catch-up window): ${r.missedCatchup}, skipped (overlap): ${r.skippedOverlap}`);
    for (const w of r.warnings) process.stderr.write(`warning: schedule ${r.scheduleId}: ${w}\n`);
  });
for (const [verb, what] of [
  ['pause', 'Pause a schedule'],
  ['unpause', 'Resume a paused schedule'],
  ['trigger', 'Start a run of a schedule now'],
  ['delete', 'Delete a schedule (runs already started go on)'],
] as const) {
  schedule
    .command(`${verb} <scheduleId>`)
    .description(what)
    .action(async (id: string) => {
      const handle = (await connectClient(loadConfig())).schedule.getHandle(id);
      await handle[verb]();
      out(`Schedule ${id}: ${verb} done`);
    });
}

program
  .command('dev')
  .description('Run the local stack: Temporal dev server + Web UI, API sandboxes and a worker, until Ctrl-C')
  .option('--no-sandboxes', 'do not start the API sandboxes')
  .action(async (opts: { sandboxes: boolean }) => {
    const stack = await startStack({ sandboxes: opts.sandboxes ? Object.keys(SANDBOXES) : [] });
    out(`Ready. Web UI: ${stack.config.TEMPORAL_UI_URL} — start runs with \`longhaul run <pipeline>\`. Ctrl-C stops.`);
    await untilInterrupted();
    await stack.stop();
  });

program
  .command('codec-server')
  .description('Serve /encode and /decode for the Temporal Web UI (payload encryption, docs/security.md)')
  .option('--port <n>', 'port', (v) => Number(v), 8888)
  .option('--host <address>', 'address to listen on', '127.0.0.1')
  .action(async (opts: { port: number; host: string }) => {
    const keys = keysFromEnv();
    if (!keys) throw new Error('LONGHAUL_ENCRYPTION_KEY is not set: nothing to decode');
    // Refuses a non-loopback address without LONGHAUL_CODEC_TOKEN; CORS origin, body cap, strict mode.
    const options = codecServerOptionsFromEnv(process.env, opts.host);
    const server = createCodecServer(new AesGcmCodec(keys, { strict: options.strict }), options);
    server.listen(opts.port, opts.host, () =>
      out(
        `Codec server on http://${opts.host}:${opts.port} for ${options.origin}` +
          `${options.token ? ', token required' : ', no token (loopback only)'}${options.strict ? ', strict' : ''}`,
      ),
    );
    await untilInterrupted();
    server.close();
  });

program
  .command('demo')
  .description('Run the main job end to end on the embedded defaults: dev server, sandbox, worker, DuckDB')
  .option('--generation <duration>', 'how long the sandbox takes to generate a report', '15s')
  .option('--days <n>', 'days of data (30-day windows)', (v) => Number(v), 95)
  .option('--keep', 'keep the stack (and Web UI) up afterwards until Ctrl-C')
  .action(async (opts: { generation: string; days: number; keep?: boolean }) => {
    process.exitCode = await demo(opts, (l) => out(l));
  });

program
  .command('search-attributes')
  .description(
    `Register longhaul's search attributes on TEMPORAL_ADDRESS's namespace (idempotent; \`longhaul dev\` needs none)`,
  )
  .option('--wait <duration>', 'keep trying while the server is not reachable yet', '2m')
  .action(async (opts: { wait: string }) => {
    const config = loadConfig();
    const until = Date.now() + parseDuration(opts.wait);
    for (;;) {
      try {
        const r = await registerSearchAttributes(await connectClient(config), config.TEMPORAL_NAMESPACE);
        out(
          `Search attributes on namespace "${config.TEMPORAL_NAMESPACE}": ` +
            `${r.added.length ? `added ${r.added.join(', ')}` : 'nothing to add'}` +
            `${r.present.length ? `; already there: ${r.present.join(', ')}` : ''}`,
        );
        return;
      } catch (err) {
        if (!/UNAVAILABLE|connect|ECONNREFUSED|Failed to connect/i.test(String(err)) || Date.now() > until) throw err;
        await new Promise((r) => setTimeout(r, 2000));
      }
    }
  });

program
  .command('worker')
  .description('Run a worker against TEMPORAL_ADDRESS')
  .action(async () => {
    await runWorker();
  });

program
  .command('sandbox [names...]')
  .description(`Run API sandboxes on their default ports (${Object.keys(SANDBOXES).join(', ') || 'none yet'})`)
  .action(async (names: string[]) => {
    const stack = await startStack({
      sandboxes: names.length ? names : Object.keys(SANDBOXES),
      server: false,
      worker: false,
    });
    await untilInterrupted();
    await stack.stop();
  });

program
  .command('doctor')
  .description(
    'Check the configured stack end to end: Temporal, namespace, search attributes, workers, warehouse, bucket, credentials, encryption, codec server',
  )
  .option('--json', 'print the checks as JSON')
  .action(async (opts: { json?: boolean }) => {
    const checks = await runDoctor(loadConfig());
    if (opts.json) out({ ok: checks.every((c) => c.ok), checks });
    else for (const line of formatChecks(checks)) out(line);
    process.exitCode = checks.every((c) => c.ok) ? 0 : 1;
  });

const deploy = program
  .command('deploy')
  .description('Worker Deployment builds: which gets new runs, how many runs each holds (docs/operations.md)');
deploy
  .command('status')
  .description('The current and ramping builds, and the runs open on each')
  .option('--deployment <name>', 'default: LONGHAUL_DEPLOYMENT')
  .option('--json')
  .action((opts: { deployment?: string; json?: boolean }) =>
    withDeployment(opts, async (client, config, name) => {
      const s = await deployStatus(client, config, name);
      if (opts.json) out(s);
      else for (const line of formatDeployStatus(s)) out(line);
    }),
  );
deploy
  .command('promote <build>')
  .description('Make <build> current: new runs and the entities go to it; pinned runs finish on their build')
  .option('--deployment <name>', 'default: LONGHAUL_DEPLOYMENT')
  .action((build: string, opts: { deployment?: string }) =>
    withDeployment(opts, async (client, config, name) => {
      await deployPromote(client, config, name, build);
      out(`deployment ${name}: build ${build} is current`);
    }),
  );
deploy
  .command('ramp <build> <percent>')
  .description('Send <percent> of new runs to <build> (0 ends the ramp); promote it when satisfied')
  .option('--deployment <name>', 'default: LONGHAUL_DEPLOYMENT')
  .action((build: string, percent: string, opts: { deployment?: string }) => {
    const p = parsePercent(percent);
    return withDeployment(opts, async (client, config, name) => {
      await deployRamp(client, config, name, build, p);
      out(`deployment ${name}: ${p}% of new runs go to build ${build}`);
    });
  });

program
  .command('query <sql>')
  .description('Run SQL against the warehouse and print the rows')
  .option('--json')
  .action(async (sql: string, opts: { json?: boolean }) => {
    const wh = createWarehouse(loadConfig());
    const rows = await wh.query(sql);
    await wh.close();
    if (opts.json) out(rows);
    else console.table(rows);
  });

program
  .command('export <table>')
  .description(
    'Write a warehouse table as a file (ndjson, json, csv or parquet) to the bucket (--to <key>) or to standard output',
  )
  .requiredOption('--format <format>', 'ndjson | json | csv | parquet')
  .option('--to <key>', 'a bucket key (default: standard output)')
  .option('--json', 'print the outcome as one JSON object (with --to)')
  .action(async (table: string, opts: { format: string; to?: string; json?: boolean }) => {
    checkExport(table, opts, Boolean(process.stdout.isTTY)); // before opening anything
    const config = loadConfig();
    const warehouse = createWarehouse(config);
    try {
      const done = await exportTable({ warehouse, bucket: createBucket(config) }, table, opts, process.stdout);
      const line = `Exported ${done.rows} rows of ${table} as ${done.format} (${done.bytes} bytes) to ${done.where}`;
      if (opts.to !== undefined) out(opts.json ? done : line);
      else process.stderr.write(line + '\n');
    } finally {
      await warehouse.close();
    }
  });

program
  .command('api')
  .description('Serve the videos API (/api/videos, /openapi.json) and the dashboard (/) from the videos store')
  .option('--port <n>', 'port (0 = any free port)', apiPort, 8080)
  .option('--host <address>', 'address to listen on', '127.0.0.1')
  .action(async (opts: { port: number; host: string }) => {
    const store = createVideosStore(loadConfig());
    await store.init();
    const api = await startApiServer({ store, host: opts.host, port: opts.port });
    out(`Videos API on ${api.url}/api/videos — dashboard ${api.url}/ — Ctrl-C stops`);
    await untilInterrupted();
    await api.close();
    await store.close();
  });

program.parseAsync(process.argv).catch((err: Error) => {
  // The innermost cause says why ("Failed to list workflows" alone does not).
  process.stderr.write(`longhaul: ${rootCause(err)}\n`);
  process.exitCode = err.name === 'InputError' || err.name === 'ConfigError' ? 2 : 1;
});

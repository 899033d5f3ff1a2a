/**
 * The local stack behind `longhaul dev` and the demo: the Temporal dev server (persistent database file,
 * Web UI), the API sandboxes and a worker, in one process. A Temporal server already listening at
 * TEMPORAL_ADDRESS is reused rather than started twice.
 */
import fs from 'node:fs';
import path from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { NativeConnection, type Worker } from '@temporalio/worker';
import { parseConfig, paths, type Config } from '../config';
import { portOpen, startDevServer, type RunningServer } from '../dev/servers';
import { startSandboxes, type RunningSandboxes } from '../sandbox';
import { closeDeps, createDeps, createWorker } from '../worker';
import { registerSearchAttributes } from './search-attributes';
import { createDatoramaWorker } from '../datorama-worker';
import { installRuntime } from '../node/runtime';

export interface Stack {
  config: Config;
  server?: RunningServer;
  sandboxes?: RunningSandboxes;
  worker?: Worker;
  workerDone?: Promise<void>;
  stop(): Promise<void>;
}

export interface StackOptions {
  sandboxes?: string[];
  /** Start (or reuse) the Temporal dev server; false: only what else is asked (`longhaul sandbox`). */
  server?: boolean;
  worker?: boolean;
  log?: (line: string) => void;
}

export async function startStack(opts: StackOptions = {}): Promise<Stack> {
  const log = opts.log ?? ((l: string) => process.stderr.write(l + '\n'));
  let config = parseConfig(process.env);
  const stops: (() => Promise<void>)[] = [];
  const stack: Stack = { config, stop: async () => void (await Promise.allSettled(stops.reverse().map((s) => s()))) };
  try {
    const [host, portText] = config.TEMPORAL_ADDRESS.split(':');
    const port = Number(portText);
    if (opts.server === false) {
      // No Temporal server wanted (`longhaul sandbox`).
    } else if (await portOpen(port, host)) {
      log(`Temporal: using the server already listening at ${config.TEMPORAL_ADDRESS}`);
    } else {
      fs.mkdirSync(config.LONGHAUL_DATA_DIR, { recursive: true });
      const uiPort = Number(new URL(config.TEMPORAL_UI_URL).port || 8233);
      stack.server = await startDevServer({
        port,
        uiPort,
        dbFile: paths.temporalDb(config),
        logFile: path.join(config.LONGHAUL_DATA_DIR, 'temporal.log'),
      });
      stops.push(() => stack.server!.stop());
      log(`Temporal dev server: ${stack.server.address} (database ${paths.temporalDb(config)})`);
      log(`Temporal Web UI: ${stack.server.uiUrl}`);
      // The start flags register the search attributes on a new database only; one kept from an older
      // longhaul gets the ones added since here (idempotent).
      const connection = await Connection.connect({ address: config.TEMPORAL_ADDRESS });
      try {
        const { added } = await registerSearchAttributes(
          new Client({ connection, namespace: config.TEMPORAL_NAMESPACE }),
          config.TEMPORAL_NAMESPACE,
        );
        if (added.length) log(`Temporal: registered search attributes ${added.join(', ')}`);
      } finally {
        await connection.close();
      }
    }
    if (opts.sandboxes?.length) {
      stack.sandboxes = await startSandboxes(opts.sandboxes);
      stops.push(() => stack.sandboxes!.stop());
      for (const [name, s] of Object.entries(stack.sandboxes.servers)) log(`Sandbox ${name}: ${s.url}`);
      // Sandbox endpoints apply unless the environment names a real endpoint explicitly.
      config = parseConfig({ ...stack.sandboxes.env, ...process.env });
      stack.config = config;
    }
    if (opts.worker !== false) {
      installRuntime();
      const connection = await NativeConnection.connect({ address: config.TEMPORAL_ADDRESS });
      const deps = createDeps(config);
      stack.worker = await createWorker({ connection, deps });
      stack.workerDone = stack.worker.run();
      const workers: { worker: Worker; done: Promise<void> }[] = [{ worker: stack.worker, done: stack.workerDone }];
      // Both workers stop first; then the sinks and the connection they share are closed.
      stops.push(async () => {
        for (const w of workers) if (w.worker.getState() === 'RUNNING') w.worker.shutdown();
        await Promise.all(workers.map((w) => w.done.catch(() => undefined)));
        await closeDeps(deps);
        await connection.close();
      });
      log(`Worker: polling task queue "${stack.worker.options.taskQueue}"`);
      // Datorama: a second worker on its own queue, rate-limited server-side (src/datorama-worker.ts).
      const datorama = await createDatoramaWorker({ connection, deps });
      workers.push({ worker: datorama, done: datorama.run() });
      log(`Worker: polling task queue "${datorama.options.taskQueue}" (${deps.config.DATORAMA_PER_MINUTE}/min)`);
    }
    return stack;
  } catch (err) {
    await stack.stop();
    throw err;
  }
}

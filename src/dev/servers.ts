/**
 * Starts the real Temporal servers that scripts/setup.sh provides: the dev server (temporal CLI, with
 * its Web UI and an optional persistent database file) and the Java time-skipping test server. When
 * setup could not build them (no Go / JDK), the SDK's own download is used instead (needs internet).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { paths } from '../config';
import { SEARCH_ATTRIBUTE_FLAGS } from '../shared/search-attributes';

export const TOOLS_BIN = path.join(process.env.LONGHAUL_HOME ?? path.join(paths.root, '.longhaul'), 'bin');

export function tool(name: string): string | undefined {
  const p = path.join(TOOLS_BIN, name);
  return fs.existsSync(p) ? p : undefined;
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as net.AddressInfo;
      s.close(() => resolve(port));
    });
  });
}

export async function portOpen(port: number, host = '127.0.0.1'): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect({ port, host });
    s.once('connect', () => (s.destroy(), resolve(true)));
    s.once('error', () => resolve(false));
  });
}

export async function waitForPort(
  port: number,
  timeoutMs: number,
  proc?: ChildProcess,
  what = 'server',
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (proc && proc.exitCode !== null) throw new Error(`${what} exited with code ${proc.exitCode} before listening`);
    if (await portOpen(port)) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`${what} did not listen on port ${port} within ${timeoutMs} ms`);
}

export interface RunningServer {
  address: string;
  port: number;
  uiUrl?: string;
  stop(): Promise<void>;
  /** SIGKILL, no shutdown (the chaos suite's crash of the server); only for a `temporal` CLI process. */
  kill?(): Promise<void>;
}

function stopper(proc: ChildProcess): () => Promise<void> {
  return () =>
    new Promise<void>((resolve) => {
      if (proc.exitCode !== null || proc.signalCode !== null) return resolve();
      const t = setTimeout(() => proc.kill('SIGKILL'), 10_000);
      proc.once('exit', () => (clearTimeout(t), resolve()));
      proc.kill('SIGTERM');
    });
}

export interface DevServerOptions {
  port?: number;
  uiPort?: number;
  /** Persistent database (runs survive a restart); in-memory when absent. */
  dbFile?: string;
  headless?: boolean;
  logFile?: string;
  /** Register longhaul's search attributes at start (default true; false: a bare server, as another would be). */
  searchAttributes?: boolean;
}

/** `temporal server start-dev` on 127.0.0.1. */
export async function startDevServer(opts: DevServerOptions = {}): Promise<RunningServer> {
  const port = opts.port ?? (await freePort());
  const cli = tool('temporal');
  if (!cli) {
    const env = await TestWorkflowEnvironment.createLocal({
      server: {
        ip: '127.0.0.1',
        port,
        dbFilename: opts.dbFile,
        ui: !opts.headless,
        uiPort: opts.uiPort,
        extraArgs: opts.searchAttributes === false ? [] : SEARCH_ATTRIBUTE_FLAGS,
      },
    });
    return {
      address: env.address,
      port,
      uiUrl: opts.headless ? undefined : `http://127.0.0.1:${opts.uiPort}`,
      stop: () => env.teardown(),
    };
  }
  const args = [
    'server',
    'start-dev',
    '--ip',
    '127.0.0.1',
    '--port',
    String(port),
    '--log-level',
    'warn',
    ...(opts.searchAttributes === false ? [] : SEARCH_ATTRIBUTE_FLAGS),
  ];
  if (opts.dbFile) {
    fs.mkdirSync(path.dirname(opts.dbFile), { recursive: true });
    args.push('--db-filename', opts.dbFile);
  }
  const uiPort = opts.headless ? undefined : (opts.uiPort ?? (await freePort()));
  if (uiPort) args.push('--ui-port', String(uiPort));
  else args.push('--headless');
  const out = opts.logFile ? fs.openSync(opts.logFile, 'a') : 'ignore';
  const proc = spawn(cli, args, { stdio: ['ignore', out, out] });
  await waitForPort(port, 60_000, proc, 'Temporal dev server');
  if (uiPort) await waitForPort(uiPort, 30_000, proc, 'Temporal Web UI');
  return {
    address: `127.0.0.1:${port}`,
    port,
    uiUrl: uiPort ? `http://127.0.0.1:${uiPort}` : undefined,
    stop: stopper(proc),
    kill: () =>
      new Promise<void>((resolve) => {
        if (proc.exitCode !== null || proc.signalCode !== null) return resolve();
        proc.once('exit', () => resolve());
        proc.kill('SIGKILL');
      }),
  };
}

/** The Java time-skipping test server on a fixed port (started once, e.g. by the test suite's global setup). */
export async function startTimeSkippingServer(opts: { port?: number; logFile?: string } = {}): Promise<RunningServer> {
  const port = opts.port ?? (await freePort());
  const exe = tool('temporal-test-server');
  if (!exe) {
    const env = await TestWorkflowEnvironment.createTimeSkipping({ server: { port } });
    return { address: env.address, port, stop: () => env.teardown() };
  }
  const out = opts.logFile ? fs.openSync(opts.logFile, 'a') : 'ignore';
  // No `--enable-time-skipping`: with it the server skips time even while a workflow task is in flight on
  // the worker (the task then times out). Without it, skipping happens exactly where the SDK unlocks it
  // (while a test awaits a result, or env.sleep), as with the SDK's own download of this server.
  const proc = spawn(exe, [String(port)], { stdio: ['ignore', out, out] });
  await waitForPort(port, 120_000, proc, 'Temporal time-skipping test server');
  return { address: `127.0.0.1:${port}`, port, stop: stopper(proc) };
}

/**
 * Connects a TestWorkflowEnvironment (time skipping included) to a test server already listening on
 * `port`. The SDK starts an `existing-path` executable and polls the port; we hand it a process that
 * just waits (the server is already there), and it kills only that process at teardown.
 */
export async function attachTimeSkipping(port: number): Promise<TestWorkflowEnvironment> {
  const waiter = path.join(TOOLS_BIN, 'attach-existing-server');
  if (!fs.existsSync(waiter)) {
    fs.mkdirSync(TOOLS_BIN, { recursive: true });
    fs.writeFileSync(
      waiter,
      '#!/bin/sh\n# Stands in for a server that is already running (see src/dev/servers.ts).\nexec sleep 2147483647\n',
      { mode: 0o755 },
    );
  }
  return TestWorkflowEnvironment.createTimeSkipping({
    server: { port, executable: { type: 'existing-path', path: waiter } },
  });
}

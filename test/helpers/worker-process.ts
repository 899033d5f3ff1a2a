/**
 * A worker process (worker-child.ts) for an integration test: on `taskQueue`, against the tests' dev server, with
 * `env` added (the sandbox's settings, a data folder). The test may SIGKILL it.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';

export const spawnWorker = (taskQueue: string, env: Record<string, string>): ChildProcess =>
  spawn(process.execPath, ['--import', 'tsx', path.join(__dirname, 'worker-child.ts'), taskQueue], {
    env: { ...process.env, TEMPORAL_ADDRESS: process.env.LONGHAUL_TEST_DEV_ADDRESS!, ...env },
    stdio: ['ignore', 'pipe', 'inherit'],
  });

/** Resolves once the worker process says it is ready; rejects if it exits first. */
export const ready = (child: ChildProcess) =>
  new Promise<void>((resolve, reject) => {
    child.stdout!.on('data', (d: Buffer) => d.toString().includes('ready') && resolve());
    child.once('exit', (code) => reject(new Error(`worker exited early (${code})`)));
  });

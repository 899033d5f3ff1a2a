/** Real server executables the integration tests start (MinIO, the BigQuery emulator). No vitest here. */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { paths } from '../../src/config';
import { freePort } from '../../src/dev/servers';

export interface TestServer {
  url: string;
  stop(): Promise<void>;
}

/**
 * Starts a real server executable for an integration contract (MinIO, the BigQuery emulator), logs its
 * output to test-results/<name>.log, and waits until `ready()` answers true.
 */
export async function startTestServer(opts: {
  name: string;
  exe: string;
  args: string[];
  env?: Record<string, string>;
  url: string;
  ready: () => Promise<boolean>;
  timeoutMs?: number;
}): Promise<TestServer> {
  const logFile = path.join(paths.root, 'test-results', `${opts.name}.log`);
  fs.mkdirSync(path.dirname(logFile), { recursive: true });
  const out = fs.openSync(logFile, 'w');
  const proc = spawn(opts.exe, opts.args, { stdio: ['ignore', out, out], env: { ...process.env, ...opts.env } });
  fs.closeSync(out);
  const stop = () =>
    new Promise<void>((resolve) => {
      if (proc.exitCode !== null || proc.signalCode !== null) return resolve();
      const t = setTimeout(() => proc.kill('SIGKILL'), 10_000);
      proc.once('exit', () => (clearTimeout(t), resolve()));
      proc.kill('SIGTERM');
    });
  const deadline = Date.now() + (opts.timeoutMs ?? 60_000);
  for (;;) {
    if (proc.exitCode !== null) throw new Error(`${opts.name} exited with code ${proc.exitCode}; see ${logFile}`);
    if (await opts.ready().catch(() => false)) return { url: opts.url, stop };
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`${opts.name} did not answer at ${opts.url}; see ${logFile}`);
    }
    await new Promise((r) => setTimeout(r, 200));
  }
}

/**
 * Starts MinIO (`exe`, built by `scripts/setup.sh --all`) on two free loopback ports (the S3 API and its
 * console), storing its data in `dataDir`, with `user`/`password` as its root credentials; logged as `name`.
 */
export async function startMinioServer(opts: {
  name: string;
  exe: string;
  dataDir: string;
  user: string;
  password: string;
}): Promise<TestServer> {
  const [port, consolePort] = [await freePort(), await freePort()];
  const url = `http://127.0.0.1:${port}`;
  return startTestServer({
    name: opts.name,
    exe: opts.exe,
    args: ['server', opts.dataDir, '--address', `127.0.0.1:${port}`, '--console-address', `127.0.0.1:${consolePort}`],
    env: { MINIO_ROOT_USER: opts.user, MINIO_ROOT_PASSWORD: opts.password, MINIO_BROWSER: 'off' },
    url,
    ready: async () => (await fetch(`${url}/minio/health/ready`)).ok,
  });
}

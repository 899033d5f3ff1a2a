/**
 * A throwaway PostgreSQL 15 server for tests and the benchmark: `initdb` in a temp folder, `pg_ctl start`
 * on a free loopback port (socket in the same folder), trust authentication, C locale; `stop()` stops it
 * and removes the folder. Run as root (CI, this machine), the server runs as the `postgres` user.
 * Needs Debian's `postgresql` package (`bash scripts/setup.sh --all` installs it).
 */
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { freePort } from '../../src/dev/servers';

const run = promisify(execFile);

export const PG_BIN = process.env.LONGHAUL_PG_BIN ?? '/usr/lib/postgresql/15/bin';

export interface TestPostgres {
  url: string;
  port: number;
  stop(): Promise<void>;
}

export async function startPostgres(settings: Record<string, string> = {}): Promise<TestPostgres> {
  if (!fs.existsSync(path.join(PG_BIN, 'initdb')))
    throw new Error(`PostgreSQL is not installed (${PG_BIN}/initdb missing): run \`bash scripts/setup.sh --all\``);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'longhaul-pg-'));
  const asRoot = process.getuid?.() === 0;
  // root cannot run postgres: the server and its files belong to the `postgres` user
  const as = (cmd: string, args: string[]) =>
    asRoot
      ? run('runuser', ['-u', 'postgres', '--', path.join(PG_BIN, cmd), ...args])
      : run(path.join(PG_BIN, cmd), args);
  if (asRoot) await run('chown', ['postgres:postgres', dir]);
  const data = path.join(dir, 'data');
  await as('initdb', ['-D', data, '-U', 'postgres', '--auth=trust', '-E', 'UTF8', '--locale=C', '--no-sync']);
  const port = await freePort();
  const opts = [
    `-p ${port}`,
    `-k ${dir}`,
    '-c listen_addresses=127.0.0.1',
    '-c fsync=off',
    '-c synchronous_commit=off',
    '-c full_page_writes=off',
    ...Object.entries(settings).map(([k, v]) => `-c ${k}=${v}`),
  ].join(' ');
  await as('pg_ctl', ['-D', data, '-o', opts, '-l', path.join(dir, 'server.log'), '-w', '-t', '60', 'start']);
  let stopped = false;
  return {
    url: `postgres://postgres@127.0.0.1:${port}/postgres`,
    port,
    async stop() {
      if (stopped) return;
      stopped = true;
      await as('pg_ctl', ['-D', data, '-m', 'fast', '-w', 'stop']).catch(() => undefined);
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

/**
 * `longhaul doctor` on the dev server: every check passes on a working stack (a worker polling both queues,
 * DuckDB, the local bucket, the sandboxes, encryption on); on a broken one each failure is its own line naming
 * what to fix, the exit code is 1, and no secret is printed.
 */
import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { formatChecks, runDoctor } from '../../src/cli/doctor';
import { parseConfig } from '../../src/config';
import { longhaul } from '../helpers/bad-input';
import { withDatoramaWorkers } from '../helpers/datorama';
import { testDeps, tmpDir, uniqueQueue, useTemporalServer } from '../helpers/temporal';

describe('longhaul doctor', () => {
  let env: TestWorkflowEnvironment;
  useTemporalServer('dev', (e) => (env = e));

  it('passes every check on a working stack, one line each', async () => {
    const taskQueue = uniqueQueue('doctor');
    const key = randomBytes(32).toString('base64');
    const vars = { TEMPORAL_ADDRESS: env.address, LONGHAUL_TASK_QUEUE: taskQueue };
    const deps = testDeps(vars);
    const checks = await withDatoramaWorkers(
      env,
      deps,
      () => runDoctor(deps.config, { LONGHAUL_ENCRYPTION_KEY: key }),
      taskQueue,
    );
    expect(checks.filter((c) => !c.ok)).toEqual([]);
    expect(checks.map((c) => c.name)).toEqual([
      'temporal',
      'namespace',
      'search attributes',
      `worker on ${taskQueue}`,
      `worker on ${taskQueue}-datorama`,
      'warehouse (duckdb)',
      'bucket (local)',
      'Dailymotion credentials',
      'YouTube credentials',
      'Datorama credentials',
      'Titelive credentials',
      'encryption',
      'codec server',
    ]);
    expect(checks.find((c) => c.name === 'encryption')!.detail).toBe('on, key k1');
    const lines = formatChecks(checks);
    expect(lines.at(-1)).toBe(`all ${checks.length} checks passed`);
    // The scratch table and object are gone.
    expect(
      (
        await deps.warehouse.query<{ n: number }>(
          "SELECT count(*) AS n FROM information_schema.tables WHERE table_name LIKE 'longhaul_doctor_%'",
        )
      )[0].n,
    ).toBe(0);
    expect(await deps.bucket.list('longhaul-doctor/')).toEqual([]);
  });

  it('says what is wrong, one line a check, exits 1, and never prints a secret', async () => {
    const secret = `dm-secret-${randomBytes(6).toString('hex')}`;
    const run = await longhaul(['doctor'], {
      TEMPORAL_ADDRESS: env.address,
      LONGHAUL_TASK_QUEUE: uniqueQueue('nobody'),
      LONGHAUL_DATA_DIR: tmpDir(),
      DM_BASE_URL: 'https://partner.api.dailymotion.com',
      DM_CLIENT_SECRET: secret, // DM_CLIENT_API missing
      DATORAMA_BASE_URL: 'https://api.datorama.com/v1',
      LONGHAUL_ENCRYPTION_KEY: 'dG9vIHNob3J0', // 9 bytes
      LONGHAUL_CODEC_URL: 'http://127.0.0.1:9', // nothing listens there
    });
    expect(run.code).toBe(1);
    const line = (name: string) => run.stdout.split('\n').find((l) => l.includes(` ${name} `)) ?? '';
    expect(line('temporal')).toMatch(/^ok /);
    expect(line(`worker on`)).toMatch(
      /^FAIL .*no worker polls task queue nobody-\w+: start one with `longhaul worker`/,
    );
    expect(line('Dailymotion credentials')).toMatch(/^FAIL .*DM_CLIENT_API, DM_CLIENT_SECRET is not set/);
    expect(line('Datorama credentials')).toMatch(/^FAIL .*DATORAMA_TOKEN is not set/);
    expect(line('YouTube credentials')).toMatch(/^ok .*local sandbox/);
    expect(line('encryption')).toMatch(/^FAIL .*LONGHAUL_ENCRYPTION_KEY must be 32 bytes/);
    expect(line('codec server')).toMatch(/^FAIL .*not reachable at http:\/\/127\.0\.0\.1:9/);
    expect(run.stdout).toMatch(/\d+ of 13 check\(s\) failed/);
    expect(run.stdout + run.stderr).not.toContain(secret);

    const json = await longhaul(['doctor', '--json'], {
      TEMPORAL_ADDRESS: env.address,
      LONGHAUL_DATA_DIR: tmpDir(),
      LONGHAUL_TASK_QUEUE: uniqueQueue('nobody'),
    });
    expect(json.code).toBe(1);
    const parsed = JSON.parse(json.stdout) as { ok: boolean; checks: { name: string; ok: boolean }[] };
    expect(parsed.ok).toBe(false);
    expect(parsed.checks.find((c) => c.name === 'warehouse (duckdb)')).toMatchObject({ ok: true });
  });

  it('a warehouse or bucket it cannot write is a failed check naming it', async () => {
    const config = parseConfig({
      TEMPORAL_ADDRESS: env.address,
      LONGHAUL_DATA_DIR: tmpDir(),
      BUCKET: 's3',
      S3_BUCKET: 'nowhere',
      S3_ENDPOINT: 'http://127.0.0.1:9',
      S3_FORCE_PATH_STYLE: 'true',
      S3_ACCESS_KEY_ID: 'x',
      S3_SECRET_ACCESS_KEY: 'y',
    });
    const checks = await runDoctor(config, {});
    expect(checks.find((c) => c.name === 'bucket (s3)')).toMatchObject({ ok: false });
    expect(checks.find((c) => c.name === 'warehouse (duckdb)')).toMatchObject({ ok: true });
  });
});

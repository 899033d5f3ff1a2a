/**
 * Secrets never reach Temporal or the logs (issue #8). Two worker processes (`longhaul worker`, as deployed,
 * at debug log level, payload codec off so that histories hold plaintext) run the pipelines that use
 * credentials against sandboxes configured with distinctive secrets: dailymotion-report with the client
 * credentials grant and with the password grant, youtube-enrich with API keys, titelive with a login and
 * password, datorama-collect with a token. Then every event history of every run started since the test
 * began (children, semaphores, quota ledgers, limiters, continue-as-new runs) and everything the workers
 * printed is scanned for every secret, as is, URL-encoded and base64 / base64url at any alignment.
 * Failed runs count too: youtube-enrich runs pointed at the worker's own /proc/self/environ (which holds every
 * credential), at a file outside the input folder, at a CSV whose header or values hold a secret, and at a
 * malformed one — their failures and results must quote no file content.
 * A planted secret proves that the scan finds what it looks for.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { DailymotionSandbox, DM_SANDBOX_SCOPES } from '../../src/pipelines/dailymotion/sandbox';
import { DatoramaSandbox } from '../../src/pipelines/datorama/sandbox';
import { TiteliveSandbox } from '../../src/pipelines/titelive/sandbox';
import { YoutubeSandbox } from '../../src/pipelines/youtube/sandbox';
import { fakeId } from '../../src/pipelines/youtube/sandbox/videos';
import { allHistories, findSecrets, secretForms, type RunHistory } from '../helpers/secrets';
import { devServerEnv, tmpDir, uniqueQueue } from '../helpers/temporal';

const tag = uniqueQueue('').slice(1); // 8 hex digits: the secrets of this run are its own
const SECRETS = {
  DM_CLIENT_SECRET: `dmSecret${tag}Q7x`,
  DM_PASSWORD: `dmPassw0rd${tag}Lk`,
  YOUTUBE_KEY_1: `AIzaYtKeyOne${tag}Zr`,
  YOUTUBE_KEY_2: `AIzaYtKeyTwo${tag}Wq`,
  TITELIVE_PASSWORD: `tlPassword${tag}Mn`,
  DATORAMA_TOKEN: `datoToken${tag}Vb`,
  /** Only in files on the worker's disk (CSV inputs): no run may carry it into history or logs. */
  CSV_FILE_SECRET: `csvFileSecret${tag}Hj`,
};
const DM_CLIENT_ID = `dm-client-${tag}`;
const DM_USER = `partner-${tag}@longhaul.test`;
const TL_USER = `titelive-${tag}`;

const BIN = path.resolve(__dirname, '../../bin/longhaul.js');

interface WorkerProcess {
  child: ChildProcess;
  output: Buffer[];
}

describe('secrets in histories and logs', () => {
  let env: TestWorkflowEnvironment;
  const since = new Date(Date.now() - 1000);
  const stops: (() => Promise<void>)[] = [];
  const workers: WorkerProcess[] = [];
  let histories: RunHistory[] = [];
  const queues = { main: uniqueQueue('secrets'), password: uniqueQueue('secrets-pw') };
  const planted: string[] = [];
  const refusedMessages: string[] = [];

  beforeAll(async () => {
    env = await devServerEnv();
    const dm = new DailymotionSandbox({
      seed: 3,
      generationMs: 300,
      clients: [
        {
          clientId: DM_CLIENT_ID,
          clientSecret: SECRETS.DM_CLIENT_SECRET,
          scopes: [...DM_SANDBOX_SCOPES],
          account: `acct-${tag}`,
          users: [{ username: DM_USER, password: SECRETS.DM_PASSWORD }],
        },
      ],
    });
    const yt = new YoutubeSandbox({
      seed: 3,
      projects: [
        { id: `proj-a-${tag}`, keys: [SECRETS.YOUTUBE_KEY_1] },
        { id: `proj-b-${tag}`, keys: [SECRETS.YOUTUBE_KEY_2] },
      ],
    });
    const tl = new TiteliveSandbox({ seed: 3, username: TL_USER, password: SECRETS.TITELIVE_PASSWORD });
    const dato = new DatoramaSandbox({ tokens: [SECRETS.DATORAMA_TOKEN], workspaces: 1, streams: 4 });
    const [dmUrl, ytUrl, tlUrl, datoUrl] = [
      await dm.start(0),
      await yt.start(0),
      await tl.start(0),
      await dato.start(0),
    ];
    stops.push(
      () => dm.stop(),
      () => yt.stop(),
      () => tl.stop(),
      () => dato.stop(),
    );

    // The worker's input folder: CSVs holding a secret in a header, in values, in a malformed field; and a
    // file outside the folder, reached by ../ and by a symlink.
    const inputDir = tmpDir('longhaul-secrets-input-');
    const outsideDir = tmpDir('longhaul-secrets-outside-');
    const fileSecret = SECRETS.CSV_FILE_SECRET;
    const id = (i: number) => fakeId(3, 'secrets-csv', i);
    fs.writeFileSync(path.join(inputDir, 'header.csv'), `user,${fileSecret},when\nu1,${id(0)},x\n`);
    fs.writeFileSync(path.join(inputDir, 'values.csv'), `user,song\nu1,${id(0)}\nu2,${fileSecret}\nu3,${id(1)}\n`);
    fs.writeFileSync(path.join(inputDir, 'unclosed.csv'), `song,user\n"${fileSecret},u1\n${id(0)},u2\n`);
    fs.writeFileSync(path.join(outsideDir, 'secret.csv'), `${fileSecret},song\n${fileSecret},${id(0)}\n`);
    fs.symlinkSync(path.join(outsideDir, 'secret.csv'), path.join(inputDir, 'link.csv'));

    const common = {
      TEMPORAL_ADDRESS: env.address,
      LONGHAUL_LOG_FORMAT: 'json',
      LONGHAUL_LOG_LEVEL: 'debug',
      DM_BASE_URL: dmUrl,
      DM_CLIENT_API: DM_CLIENT_ID,
      DM_CLIENT_SECRET: SECRETS.DM_CLIENT_SECRET,
    };
    workers.push(
      startWorker({
        ...common,
        LONGHAUL_TASK_QUEUE: queues.main,
        LONGHAUL_DATA_DIR: tmpDir(),
        LONGHAUL_INPUT_DIR: inputDir,
        YOUTUBE_BASE_URL: `${ytUrl}/youtube/v3`,
        YOUTUBE_API_KEYS: `proj-a-${tag}:${SECRETS.YOUTUBE_KEY_1},proj-b-${tag}:${SECRETS.YOUTUBE_KEY_2}`,
        TITELIVE_LOGIN_URL: `${tlUrl}/v1`,
        TITELIVE_SEARCH_URL: `${tlUrl}/v1`,
        TITELIVE_IMAGES_URL: tl.images.url,
        TITELIVE_USERNAME: TL_USER,
        TITELIVE_PASSWORD: SECRETS.TITELIVE_PASSWORD,
        DATORAMA_BASE_URL: `${datoUrl}/v1`,
        DATORAMA_TOKEN: SECRETS.DATORAMA_TOKEN,
      }),
      startWorker({
        ...common,
        LONGHAUL_TASK_QUEUE: queues.password,
        LONGHAUL_DATA_DIR: tmpDir(),
        DM_USERNAME: DM_USER,
        DM_PASSWORD: SECRETS.DM_PASSWORD,
      }),
    );

    const dmInput = (table: string) => ({
      metrics: ['VIEWS'],
      dimensions: ['DAY', 'VIDEO_ID'],
      startDate: '2026-01-01',
      endDate: '2026-01-04',
      table,
      poll: { initialDelay: '200ms', factor: 1.5, maxDelay: '1s' },
    });
    const runs: [string, string, unknown][] = [
      ['dailymotionReport', queues.main, dmInput('dm_secrets_client')],
      ['dailymotionReport', queues.password, dmInput('dm_secrets_password')],
      [
        'youtubeEnrich',
        queues.main,
        {
          ids: Array.from({ length: 120 }, (_, i) => fakeId(3, 'secrets', i)),
          outPrefix: 'youtube/secrets',
          pool: `secrets-${tag}`,
          callsPerActivity: 1,
        },
      ],
      [
        'titelive',
        queues.main,
        { category: 'LIVRE', minModifiedDate: '2025-03-01', maxModifiedDate: '2025-03-03', images: false },
      ],
      ['datoramaCollect', queues.main, { jobs: false }],
      // Completes, with an invalid value (the secret) counted by line, never quoted.
      [
        'youtubeEnrich',
        queues.main,
        { csv: path.join(inputDir, 'values.csv'), outPrefix: 'youtube/secrets-csv', pool: `secrets-${tag}` },
      ],
    ];
    // Refused inputs: each run must fail (InvalidInput), quoting nothing of the file.
    const refused: [string, unknown][] = [
      ['environ', { csv: '/proc/self/environ', column: 'x' }],
      ['header', { csv: path.join(inputDir, 'header.csv'), column: 'song' }],
      ['unclosed', { csv: path.join(inputDir, 'unclosed.csv') }],
      ['dotdot', { csv: `../${path.basename(outsideDir)}/secret.csv`, column: 'x' }],
      ['symlink', { csv: 'link.csv', column: 'x' }],
    ].map(([name, input]) => [
      name as string,
      { ...(input as object), pool: `secrets-${tag}`, outPrefix: `yt/${name}` },
    ]);
    const refusedHandles = await Promise.all(
      refused.map(([name, input]) =>
        env.client.workflow.start('youtubeEnrich', {
          taskQueue: queues.main,
          workflowId: uniqueQueue(`secrets-refused-${name}`),
          args: [input],
        }),
      ),
    );
    const handles = await Promise.all(
      runs.map(([type, taskQueue, input]) =>
        env.client.workflow.start(type, { taskQueue, workflowId: uniqueQueue(`secrets-${type}`), args: [input] }),
      ),
    );
    // Every run must succeed: a scan of runs that failed before using their credentials would prove little.
    const results = await Promise.allSettled(handles.map((h) => h.result()));
    results.forEach((r, i) => {
      if (r.status === 'rejected') throw new Error(`${runs[i][0]} failed: ${(r.reason as Error).message}`);
    });
    const refusals = await Promise.allSettled(refusedHandles.map((h) => h.result()));
    refusals.forEach((r, i) => {
      if (r.status === 'fulfilled') throw new Error(`youtube-enrich on ${refused[i][0]} should have been refused`);
      // The root cause: the activity's failure (the workflow's wraps it).
      let e = r.reason as { cause?: unknown; message?: string };
      while (e.cause) e = e.cause as typeof e;
      refusedMessages.push(String(e.message));
    });

    // The self-check: a run whose input holds a secret (as is, and base64-encoded inside a longer string).
    for (const label of [
      `planted-${SECRETS.TITELIVE_PASSWORD}`,
      `x${Buffer.from(`ab${SECRETS.DATORAMA_TOKEN}`).toString('base64')}`,
    ]) {
      const id = uniqueQueue('secrets-planted');
      planted.push(id);
      await env.client.workflow.start('selftest', {
        taskQueue: uniqueQueue('nobody'),
        workflowId: id,
        args: [{ sleep: 0, label }],
      });
      await env.client.workflow.getHandle(id).terminate('planted for the scanner self-check');
    }
    // Visibility lags the histories a little: read until every run of the test is listed.
    const expected = [...handles.map((h) => h.workflowId), ...refusedHandles.map((h) => h.workflowId), ...planted];
    for (let i = 0; ; i++) {
      histories = await allHistories(env.client, since);
      if (expected.every((id) => histories.some((h) => h.workflowId === id)) || i >= 50) break;
      await new Promise((r) => setTimeout(r, 200));
    }
  }, 280_000);

  afterAll(async () => {
    for (const w of workers) {
      w.child.kill('SIGTERM');
      await new Promise((r) => (w.child.exitCode !== null ? r(undefined) : w.child.once('exit', r)));
    }
    for (const q of Object.values(queues))
      for await (const w of env.client.workflow.list({ query: `TaskQueue = '${q}' AND ExecutionStatus = 'Running'` }))
        await env.client.workflow
          .getHandle(w.workflowId)
          .terminate('test over')
          .catch(() => undefined);
    for (const stop of stops) await stop();
    await env?.teardown();
  });

  it('the scanner finds a planted secret, as is and base64-encoded at any alignment', () => {
    const [raw, encoded] = planted.map((id) => histories.find((h) => h.workflowId === id)!);
    expect(findSecrets(raw.bytes, SECRETS, raw.workflowId).map((l) => `${l.secret} ${l.form}`)).toContain(
      'TITELIVE_PASSWORD raw',
    );
    expect(findSecrets(encoded.bytes, SECRETS, encoded.workflowId).map((l) => l.secret)).toContain('DATORAMA_TOKEN');
    // In a log line: a Basic header of the client id and secret, and a URL-encoded query string.
    const basic = Buffer.from(`${DM_CLIENT_ID}:${SECRETS.DM_CLIENT_SECRET}`).toString('base64');
    expect(findSecrets(`{"msg":"auth","h":"Basic ${basic}"}`, SECRETS, 'log').map((l) => l.secret)).toEqual([
      'DM_CLIENT_SECRET',
    ]);
    const form = `key=${encodeURIComponent(`${SECRETS.YOUTUBE_KEY_1} x`)}`;
    expect(findSecrets(form, SECRETS, 'log').map((l) => l.secret)).toEqual(['YOUTUBE_KEY_1']);
    expect(secretForms('a b+c')).toMatchObject({ raw: 'a b+c', url: 'a%20b%2Bc', form: 'a+b%2Bc' });
  });

  it('refused inputs fail with a message that names the flag and quotes no file content', () => {
    expect(refusedMessages).toHaveLength(5);
    for (const m of refusedMessages) {
      expect(m).toMatch(/^--(csv|column): /);
      expect(m).not.toMatch(/PATH=|HOME=/);
      expect(findSecrets(m, SECRETS, 'failure')).toEqual([]);
    }
  });

  it('no secret is in any event history of the runs, their children and entity workflows', () => {
    const scanned = histories.filter((h) => !planted.includes(h.workflowId));
    const types = new Set(scanned.map((h) => h.type));
    // The runs and what they started: children, the report semaphore, the quota ledger (a permit entity), the
    // limiter.
    for (const t of [
      'dailymotionReport',
      'dailymotionReportWindow',
      'semaphore',
      'youtubeEnrich',
      'permits',
      'titelive',
      'datoramaCollect',
      'datoramaLimiter',
    ])
      expect(types).toContain(t);
    expect(scanned.length).toBeGreaterThan(5);
    const leaks = scanned.flatMap((h) => findSecrets(h.bytes, SECRETS, `${h.type} ${h.workflowId}/${h.runId}`));
    expect(leaks).toEqual([]);
    console.log(
      `[secrets-scan] ${scanned.length} histories (${[...types].sort().join(', ')}), ` +
        `${scanned.reduce((n, h) => n + h.events, 0)} events, ${scanned.reduce((n, h) => n + h.bytes.length, 0)} bytes: no secret`,
    );
  });

  it('no secret is in anything the worker processes printed (debug level)', () => {
    const output = Buffer.concat(workers.flatMap((w) => w.output));
    expect(output.length).toBeGreaterThan(0);
    expect(findSecrets(output, SECRETS, 'worker output')).toEqual([]);
    console.log(`[secrets-scan] ${output.length} bytes of worker output: no secret`);
  });
});

function startWorker(env: Record<string, string>): WorkerProcess {
  const base = Object.fromEntries(
    Object.entries(process.env).filter(
      ([k]) => !/^(LONGHAUL_|TEMPORAL_|DM_|YOUTUBE_|TITELIVE_|DATORAMA_)/.test(k) || k === 'LONGHAUL_HOME',
    ),
  );
  const child = spawn(process.execPath, [BIN, 'worker'], {
    env: { ...base, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const output: Buffer[] = [];
  child.stdout!.on('data', (b: Buffer) => output.push(b));
  child.stderr!.on('data', (b: Buffer) => output.push(b));
  return { child, output };
}

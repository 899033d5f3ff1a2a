/**
 * `longhaul doctor`: checks the configured stack end to end and says what is wrong, one line a check.
 * Every check runs (one failing does not hide the others); the exit code is 0 only when all pass. Secrets are
 * never printed: a credential is "set" or "missing", never shown.
 */
import { randomUUID } from 'node:crypto';
import { Client, Connection } from '@temporalio/client';
import type { Config } from '../config';
import { codecStrictFromEnv, keysFromEnv } from '../codec/aes-codec';
import { createBucket, createWarehouse } from '../sinks';
import { callQueueOf } from '../pipelines/datorama/shared';
import { missingSearchAttributes } from './search-attributes';

export interface Check {
  name: string;
  ok: boolean;
  /** What was found, or what is wrong and what to do. */
  detail: string;
}

type Probe = () => Promise<string>;

async function check(name: string, probe: Probe): Promise<Check> {
  try {
    return { name, ok: true, detail: await probe() };
  } catch (err) {
    return { name, ok: false, detail: (err as Error).message.split('\n')[0] };
  }
}

/** The APIs longhaul calls: when their URL is not the local sandbox's, the credentials must be set. */
const APIS: { name: string; url: (c: Config) => string; sandbox: string; credentials: (c: Config) => string[] }[] = [
  {
    name: 'Dailymotion',
    url: (c) => c.DM_BASE_URL,
    sandbox: 'http://127.0.0.1:4101',
    credentials: (c) => (c.DM_CLIENT_API && c.DM_CLIENT_SECRET ? [] : ['DM_CLIENT_API', 'DM_CLIENT_SECRET']),
  },
  {
    name: 'YouTube',
    url: (c) => c.YOUTUBE_BASE_URL,
    sandbox: 'http://127.0.0.1:4102/youtube/v3',
    credentials: (c) => (c.YOUTUBE_API_KEYS.length ? [] : ['YOUTUBE_API_KEYS']),
  },
  {
    name: 'Datorama',
    url: (c) => c.DATORAMA_BASE_URL,
    sandbox: 'http://127.0.0.1:4103/v1',
    credentials: (c) => (c.DATORAMA_TOKEN ? [] : ['DATORAMA_TOKEN']),
  },
  {
    name: 'Titelive',
    url: (c) => c.TITELIVE_SEARCH_URL,
    sandbox: 'http://127.0.0.1:4104/v1',
    credentials: (c) => (c.TITELIVE_USERNAME && c.TITELIVE_PASSWORD ? [] : ['TITELIVE_USERNAME', 'TITELIVE_PASSWORD']),
  },
];

/** Runs every check against `config` (and `env` for the encryption and codec variables). */
export async function runDoctor(config: Config, env: NodeJS.ProcessEnv = process.env): Promise<Check[]> {
  const checks: Check[] = [];
  let client: Client | undefined;
  checks.push(
    await check('temporal', async () => {
      // A plain connection: the checks read no payloads, and a bad encryption key is its own check below.
      const connection = await Connection.connect({ address: config.TEMPORAL_ADDRESS, connectTimeout: '5s' }).catch(
        (err: Error) => {
          throw new Error(
            `cannot reach Temporal at ${config.TEMPORAL_ADDRESS} (${err.message}): start it or set TEMPORAL_ADDRESS`,
          );
        },
      );
      client = new Client({ connection, namespace: config.TEMPORAL_NAMESPACE });
      await connection.workflowService.getSystemInfo({});
      return `reachable at ${config.TEMPORAL_ADDRESS}`;
    }),
  );
  const needClient = (): Client => {
    if (!client) throw new Error('skipped: Temporal is not reachable');
    return client;
  };
  checks.push(
    await check('namespace', async () => {
      await needClient()
        .connection.workflowService.describeNamespace({ namespace: config.TEMPORAL_NAMESPACE })
        .catch((err: Error) => {
          throw new Error(
            `namespace "${config.TEMPORAL_NAMESPACE}" not found (${err.message.split('\n')[0]}): create it or set TEMPORAL_NAMESPACE`,
          );
        });
      return `"${config.TEMPORAL_NAMESPACE}" exists`;
    }),
  );
  checks.push(
    await check('search attributes', async () => {
      const missing = await missingSearchAttributes(needClient(), config.TEMPORAL_NAMESPACE);
      if (missing.length) throw new Error(`missing ${missing.join(', ')}: run \`longhaul search-attributes\``);
      return 'all registered';
    }),
  );
  for (const queue of [config.LONGHAUL_TASK_QUEUE, callQueueOf(config.LONGHAUL_TASK_QUEUE)])
    checks.push(
      await check(`worker on ${queue}`, async () => {
        const kinds = [1, 2] as const; // TASK_QUEUE_TYPE_WORKFLOW, TASK_QUEUE_TYPE_ACTIVITY
        const pollers = await Promise.all(
          kinds.map(async (taskQueueType) => {
            const r = await needClient().connection.workflowService.describeTaskQueue({
              namespace: config.TEMPORAL_NAMESPACE,
              taskQueue: { name: queue },
              taskQueueType,
            });
            return r.pollers?.length ?? 0;
          }),
        );
        if (pollers[0] + pollers[1] === 0)
          throw new Error(`no worker polls task queue ${queue}: start one with \`longhaul worker\``);
        return `${pollers[0]} workflow poller(s), ${pollers[1]} activity poller(s)`;
      }),
    );

  checks.push(
    await check(`warehouse (${config.WAREHOUSE})`, async () => {
      const wh = createWarehouse(config);
      const table = {
        name: `longhaul_doctor_${randomUUID().replace(/-/g, '').slice(0, 12)}`,
        columns: [{ name: 'k', type: 'STRING' as const }],
      };
      try {
        await wh.load(
          table,
          (async function* () {
            yield [{ k: 'doctor' }];
          })(),
          { kind: 'append' },
        );
        const n = await wh.count(table);
        if (n !== 1) throw new Error(`wrote 1 row into ${table.name}, read back ${n}`);
      } finally {
        await wh.dropTable(table.name).catch(() => undefined);
        await wh.close();
      }
      return `created, wrote, read and dropped a scratch table${config.WAREHOUSE === 'bigquery' ? ` in ${config.BIGQUERY_PROJECT}.${config.BIGQUERY_DATASET}` : ''}`;
    }),
  );
  checks.push(
    await check(`bucket (${config.BUCKET})`, async () => {
      const bucket = createBucket(config);
      const key = `longhaul-doctor/${randomUUID()}.txt`;
      try {
        await bucket.put(key, 'doctor');
        const back = (await bucket.get(key)).toString();
        if (back !== 'doctor') throw new Error(`wrote ${key}, read back something else`);
      } finally {
        await bucket.delete(key).catch(() => undefined);
      }
      return `wrote, read and deleted a scratch object under ${bucket.uri('longhaul-doctor/')}`;
    }),
  );
  for (const api of APIS)
    checks.push(
      await check(`${api.name} credentials`, async () => {
        const url = api.url(config);
        if (url.replace(/\/$/, '') === api.sandbox) return `the local sandbox (${url}): none needed`;
        const missing = api.credentials(config);
        if (missing.length) throw new Error(`${url} is not the sandbox and ${missing.join(', ')} is not set`);
        return `set (not shown) for ${url}`;
      }),
    );
  checks.push(
    await check('encryption', async () => {
      const keys = keysFromEnv(env); // throws naming the variable when a key is malformed
      if (!keys) {
        if (codecStrictFromEnv(env))
          throw new Error('LONGHAUL_CODEC_STRICT is true but LONGHAUL_ENCRYPTION_KEY is not set');
        return 'off (payloads in plain text): set LONGHAUL_ENCRYPTION_KEY to encrypt';
      }
      return `on, key ${keys.currentKeyId}${Object.keys(keys.keys).length > 1 ? ` (+${Object.keys(keys.keys).length - 1} old)` : ''}`;
    }),
  );
  checks.push(
    await check('codec server', async () => {
      const url = env.LONGHAUL_CODEC_URL;
      if (!url) return 'not configured (LONGHAUL_CODEC_URL unset)';
      const res = await fetch(new URL('/decode', url), {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          ...(env.LONGHAUL_CODEC_TOKEN ? { authorization: `Bearer ${env.LONGHAUL_CODEC_TOKEN}` } : {}),
          'x-namespace': config.TEMPORAL_NAMESPACE,
        },
        body: JSON.stringify({ payloads: [] }),
        signal: AbortSignal.timeout(5_000),
      }).catch((err: Error) => {
        throw new Error(`not reachable at ${url} (${err.message})`);
      });
      if (!res.ok) throw new Error(`${url}/decode answered ${res.status}`);
      return `answers at ${url}`;
    }),
  );
  await client?.connection.close();
  return checks;
}

export function formatChecks(checks: Check[]): string[] {
  const width = Math.max(...checks.map((c) => c.name.length));
  const failed = checks.filter((c) => !c.ok).length;
  return [
    ...checks.map((c) => `${c.ok ? 'ok  ' : 'FAIL'} ${c.name.padEnd(width)}  ${c.detail}`),
    failed ? `${failed} of ${checks.length} check(s) failed` : `all ${checks.length} checks passed`,
  ];
}

/**
 * Search attributes on a bare dev server (started without longhaul's `--search-attribute` flags, as any
 * other server would be): a run started before registration still starts, and says why it has no tags;
 * `longhaul search-attributes` (registerSearchAttributes) adds the five, idempotently; runs then carry the
 * pipeline, the source account's fingerprint and the data range, and `longhaul list --account --from --to`
 * finds exactly the runs whose range overlaps. No worker: the runs only need to exist.
 */
import { Client, Connection } from '@temporalio/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { list, status } from '../../src/cli/inspect';
import { runPipeline } from '../../src/cli/run';
import { registerSearchAttributes } from '../../src/cli/search-attributes';
import { parseConfig } from '../../src/config';
import { startDevServer, type RunningServer } from '../../src/dev/servers';
import { PIPELINES } from '../../src/pipelines';
import { fingerprint } from '../../src/node/fingerprint';
import {
  ACCOUNT_ATTRIBUTE,
  PIPELINE_ATTRIBUTE,
  RANGE_END_ATTRIBUTE,
  RANGE_START_ATTRIBUTE,
  SEARCH_ATTRIBUTES,
} from '../../src/shared/search-attributes';
import { tmpDir, uniqueQueue } from '../helpers/temporal';

describe('search attributes on a server without them', () => {
  let server: RunningServer;
  let connection: Connection;
  let client: Client;
  beforeAll(async () => {
    server = await startDevServer({ headless: true, searchAttributes: false });
    connection = await Connection.connect({ address: server.address });
    client = new Client({ connection });
  }, 120_000);
  afterAll(async () => {
    await connection?.close();
    await server?.stop();
  });

  /** `longhaul list` until the server's visibility store shows `n` rows (it lags the start by a little). */
  async function listed(opts: Parameters<typeof list>[1], n: number) {
    let rows: Awaited<ReturnType<typeof list>> = [];
    for (let i = 0; i < 100 && rows.length < n; i++) {
      rows = await list(client, opts);
      if (rows.length < n) await new Promise((r) => setTimeout(r, 100));
    }
    return rows.map((r) => r.workflowId).sort();
  }

  it('registers them once; runs then carry pipeline, account and range, and list filters on them', async () => {
    const token = `tok-${uniqueQueue()}`;
    const config = parseConfig({
      LONGHAUL_DATA_DIR: tmpDir(),
      DATORAMA_TOKEN: token,
      TEMPORAL_ADDRESS: server.address,
    });
    const pipeline = { ...PIPELINES['datorama-process'], taskQueue: uniqueQueue('nobody') };
    const start = (streams: number[], from: string, to: string, logs: string[] = []) =>
      runPipeline(
        client,
        config,
        pipeline,
        pipeline.input.parse({ streams, start: from, end: to }),
        { wait: false },
        (l) => logs.push(l),
      );

    // Before: the run starts anyway, and the client says what is missing and how to add it.
    const logs: string[] = [];
    const early = await start([1], '2026-01-01', '2026-01-31', logs);
    expect(logs[0]).toMatch(/^Note: this server has no search attribute Longhaul\w+ registered; starting without/);
    expect(logs[0]).toContain('`longhaul search-attributes` registers them');
    expect((await client.workflow.getHandle(early.workflowId).describe()).typedSearchAttributes.getAll()).toEqual([]);

    expect(await registerSearchAttributes(client, 'default')).toEqual({
      added: Object.keys(SEARCH_ATTRIBUTES),
      present: [],
    });
    expect(await registerSearchAttributes(client, 'default')).toEqual({
      added: [],
      present: Object.keys(SEARCH_ATTRIBUTES),
    });

    const jan = await start([2], '2026-01-01', '2026-01-31');
    const feb = await start([3], '2026-02-01', '2026-02-28');
    const a = (await client.workflow.getHandle(jan.workflowId).describe()).typedSearchAttributes;
    expect(a.get(PIPELINE_ATTRIBUTE)).toBe('datorama-process');
    expect(a.get(ACCOUNT_ATTRIBUTE)).toBe(fingerprint(token));
    expect(a.get(RANGE_START_ATTRIBUTE)?.toISOString()).toBe('2026-01-01T00:00:00.000Z');
    expect(a.get(RANGE_END_ATTRIBUTE)?.toISOString()).toBe('2026-01-31T23:59:59.999Z');

    const account = fingerprint(token);
    expect(await listed({ account }, 2)).toEqual([jan.workflowId, feb.workflowId].sort());
    expect(await listed({ account, from: '2026-01-31', to: '2026-01-31' }, 1)).toEqual([jan.workflowId]);
    expect(await listed({ account, from: '2026-02-15' }, 1)).toEqual([feb.workflowId]);
    expect(await listed({ account, to: '2026-02-01' }, 2)).toEqual([jan.workflowId, feb.workflowId].sort());
    expect(await listed({ account, from: '2026-03-01' }, 0)).toEqual([]);
    expect(await listed({ account: fingerprint('another token') }, 0)).toEqual([]);
    const rows = await list(client, { account, from: '2026-02-01' });
    expect(rows[0]).toMatchObject({ account, range: '2026-02-01..2026-02-28' });
    expect(await status(client, config, feb.workflowId, 500)).toMatchObject({
      account,
      range: '2026-02-01..2026-02-28',
    });

    for (const r of [early, jan, feb]) await client.workflow.getHandle(r.workflowId).terminate('test over');
  }, 120_000);

  it('refuses an attribute registered with another type, naming the fix', async () => {
    await client.connection.operatorService.removeSearchAttributes({
      namespace: 'default',
      searchAttributes: ['LonghaulAccount'],
    });
    await client.connection.operatorService.addSearchAttributes({
      namespace: 'default',
      searchAttributes: { LonghaulAccount: 1 /* Text */ },
    });
    await expect(registerSearchAttributes(client, 'default')).rejects.toThrow(
      /LonghaulAccount is registered on namespace "default" as INDEXED_VALUE_TYPE_TEXT, longhaul needs Keyword: remove it/,
    );
  });
});

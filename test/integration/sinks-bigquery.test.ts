/**
 * The Warehouse contract on a real BigQuery API: goccy/bigquery-emulator built by `scripts/setup.sh --all`,
 * started per file (REST and gRPC on free ports, project `test`, dataset `longhaul`).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config';
import { freePort, tool } from '../../src/dev/servers';
import { createWarehouse } from '../../src/sinks';
import { BigQueryWarehouse } from '../../src/sinks/bigquery';
import { fromArray, replaceRangeOf } from '../../src/sinks/warehouse';
import { reportTableSchema } from '../../src/pipelines/dailymotion/shared';
import { SupervisedEmulator } from '../helpers/production';
import {
  startTestServer,
  warehouseContract,
  warehouseOwnershipContract,
  warehouseReadContract,
  warehouseExportContract,
  warehouseDeclarationContract,
  type TestServer,
} from '../helpers/sink-contracts';

const emulator = tool('bigquery-emulator');

if (!emulator) console.warn('BigQuery tests skipped: .longhaul/bin/bigquery-emulator missing (scripts/setup.sh --all)');

/** Starts an emulator (project `test`, dataset `longhaul`) for the enclosing describe. */
async function startEmulator(name: string): Promise<TestServer> {
  const [port, grpcPort] = [await freePort(), await freePort()];
  const url = `http://127.0.0.1:${port}`;
  const listen = ['--host', '127.0.0.1', '--port', `${port}`, '--grpc-port', `${grpcPort}`];
  return startTestServer({
    name,
    exe: emulator!,
    args: [...listen, '--project', 'test', '--dataset', 'longhaul'],
    url,
    ready: async () => (await fetch(`${url}/bigquery/v2/projects/test/datasets`)).ok,
  });
}

// A server of its own: the emulator's memory grows with every table created and dropped, and one server
// for every contract test ran out of it (a panic in the emulator).
describe.skipIf(!emulator)('BigQuery warehouse on the emulator: describe, ownership, abort', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startEmulator('bigquery-emulator-ownership');
  });
  afterAll(async () => {
    await server?.stop();
  });
  warehouseOwnershipContract('BigQueryWarehouse', {
    make: async () => new BigQueryWarehouse({ projectId: 'test', datasetId: 'longhaul', apiEndpoint: server.url }),
    param: (name) => `@${name}`,
  });
});

describe.skipIf(!emulator)('BigQuery warehouse on the emulator: typed reads, declarations, schema evolution', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startEmulator('bigquery-emulator-reads');
  });
  afterAll(async () => {
    await server?.stop();
  });
  const make = async () => new BigQueryWarehouse({ projectId: 'test', datasetId: 'longhaul', apiEndpoint: server.url });
  warehouseReadContract('BigQueryWarehouse', { make });
  // EXPORT DATA writes only to Cloud Storage: the rows are streamed (tabledata.list) into the file.
  warehouseExportContract('BigQueryWarehouse', { make });
  // The emulator accepts ALTER TABLE … ADD COLUMN but does not apply it (addColumnsSql); unit-tested instead.
  warehouseDeclarationContract('BigQueryWarehouse', { make, addsColumns: false });
});

describe.skipIf(!emulator)('BigQuery warehouse on the emulator', () => {
  let server: TestServer;
  const options = () => ({ projectId: 'test', datasetId: 'longhaul', apiEndpoint: server.url });

  beforeAll(async () => {
    server = await startEmulator('bigquery-emulator');
  });
  afterAll(async () => {
    await server?.stop();
  });

  warehouseContract('BigQueryWarehouse', {
    make: async () => new BigQueryWarehouse(options()),
    param: (name) => `@${name}`,
  });

  describe('BigQuery-specific behaviour', () => {
    it('creates the tables with the declared types and modes, and drops its staging tables', async () => {
      const wh = new BigQueryWarehouse(options());
      const schema = {
        name: 'bq_modes',
        columns: [
          { name: 'id', type: 'STRING' as const, nullable: false },
          { name: 'n', type: 'INT64' as const },
          { name: 'doc', type: 'JSON' as const },
        ],
      };
      await wh.load(schema, fromArray([{ id: 'a', n: 1, doc: '{}' }]), { kind: 'merge', keys: ['id'] });
      const [meta] = await wh.client.dataset('longhaul').table('bq_modes').getMetadata();
      expect(meta.schema.fields).toEqual([
        expect.objectContaining({ name: 'id', type: 'STRING', mode: 'REQUIRED' }),
        expect.objectContaining({ name: 'n', type: 'INT64', mode: 'NULLABLE' }),
        expect.objectContaining({ name: 'doc', type: 'JSON', mode: 'NULLABLE' }),
      ]);
      const [tables] = await wh.client.dataset('longhaul').getTables();
      expect(tables.map((t) => t.id).filter((id) => id?.startsWith('_stage_'))).toEqual([]);
    });

    it('creates a range-replaced table partitioned on its range column and clustered on its owner and key', async () => {
      // The emulator keeps the options but reports fake bytes processed (1), so the pruning itself is not shown
      // here (docs/sinks.md, "BigQuery cost").
      const wh = new BigQueryWarehouse(options());
      const s = reportTableSchema('bq_partitioned', ['DAY', 'VIDEO_ID'], ['VIEWS']);
      const row = { day: '2026-01-01', video_id: 'x', views: 1, report_config: 'c' };
      await wh.load(s, fromArray([row]), replaceRangeOf(s, '2026-01-01', '2026-01-01', { report_config: 'c' }));
      const [meta] = await wh.client.dataset('longhaul').table('bq_partitioned').getMetadata();
      expect(meta.timePartitioning).toMatchObject({ type: 'DAY', field: 'day' });
      expect(meta.clustering).toEqual({ fields: ['report_config', 'video_id'] });
    });

    it('creates a missing dataset on first use', async () => {
      const wh = new BigQueryWarehouse({ ...options(), datasetId: 'created_on_first_use' });
      await wh.ensureTable({ name: 't', columns: [{ name: 'k', type: 'STRING' }] });
      const [exists] = await wh.client.dataset('created_on_first_use').table('t').exists();
      expect(exists).toBe(true);
    });

    it('is what createWarehouse builds for WAREHOUSE=bigquery', async () => {
      const config = parseConfig({
        WAREHOUSE: 'bigquery',
        BIGQUERY_PROJECT: 'test',
        BIGQUERY_DATASET: 'longhaul',
        BIGQUERY_API_ENDPOINT: server.url,
      });
      const wh = createWarehouse(config);
      expect(wh).toBeInstanceOf(BigQueryWarehouse);
      expect(await wh.query('SELECT 1 + @n AS two', { n: 1 })).toEqual([{ two: 2 }]);
    });
  });
});

// Small appends and merges go inline by default (one query job); the contract again with every load staged,
// on an emulator restarted by its supervisor as its memory grows (test/helpers/production.ts).
describe.skipIf(!emulator)('BigQuery warehouse on the emulator, every load staged (inlineMaxRows 0)', () => {
  let emu: SupervisedEmulator;
  beforeAll(async () => {
    emu = await new SupervisedEmulator({ name: 'bigquery-emulator-staged' }).start();
  });
  afterAll(async () => {
    await emu?.stop();
  });
  warehouseContract('BigQueryWarehouse (staged)', {
    make: async () =>
      new BigQueryWarehouse({ projectId: 'test', datasetId: 'longhaul', apiEndpoint: emu.url, inlineMaxRows: 0 }),
    param: (name) => `@${name}`,
  });
});

// The chaos suite's production runs keep their emulator alive this way (its memory grows with every job).
describe.skipIf(!emulator)('the emulator supervisor (test/helpers/production.ts)', () => {
  it('restarts the emulator under concurrent writes: requests held, none lost, the data kept', async () => {
    const emu = await new SupervisedEmulator({ name: 'bigquery-emulator-supervised' }).start();
    const wh = new BigQueryWarehouse({ projectId: 'test', datasetId: 'supervised', apiEndpoint: emu.url });
    const table = {
      name: 'supervised_rows',
      columns: [
        { name: 'writer', type: 'INT64' as const, nullable: false },
        { name: 'n', type: 'INT64' as const, nullable: false },
      ],
      primaryKey: ['writer', 'n'],
      write: { kind: 'merge' as const },
    };
    try {
      await wh.load(table, fromArray([{ writer: 0, n: 0 }]));
      // Three writers of 8 merges each; the emulator restarted twice while they write.
      const writer = async (w: number) => {
        for (let i = 0; i < 8; i++)
          await wh.load(table, fromArray(Array.from({ length: 20 }, (_, k) => ({ writer: w, n: i * 20 + k }))));
      };
      const recycles = (async () => {
        await new Promise((r) => setTimeout(r, 1500));
        await emu.recycle();
        await new Promise((r) => setTimeout(r, 1500));
        await emu.recycle();
      })();
      await Promise.all([writer(1), writer(2), writer(3), recycles]);
      expect(emu.restarts).toBe(2);
      // A restart drops the query-result datasets the emulator keeps (BigQuery expires them itself), and only them.
      const anonymous = async () =>
        (await wh.client.getDatasets({ all: true }))[0].filter((d) => /^[0-9a-f]{8}-[0-9a-f]{4}-/.test(d.id ?? ''));
      // The warehouse's reads go through jobs.query and leave none; a query job (jobs.insert) leaves one each.
      const before = (await anonymous()).length;
      for (let i = 0; i < 3; i++) await wh.select(table, { aggregates: { rows: { count: true } } });
      expect((await anonymous()).length).toBe(before);
      for (let i = 0; i < 3; i++) {
        const [job] = await wh.client.createQueryJob({ query: 'SELECT 1 AS one' });
        await job.getQueryResults();
      }
      expect((await anonymous()).length).toBeGreaterThanOrEqual(3);
      await emu.recycle();
      expect(emu.restarts).toBe(3);
      expect(await anonymous()).toEqual([]);
      expect(emu.prunedResults).toBeGreaterThan(0);
      const rows = await wh.select<{ writer: number; rows: number }>(table, {
        groupBy: ['writer'],
        aggregates: { rows: { count: true } },
      });
      expect(Object.fromEntries(rows.map((r) => [r.writer, Number(r.rows)]))).toEqual({
        0: 1,
        1: 160,
        2: 160,
        3: 160,
      });
    } finally {
      await wh.close();
      await emu.stop();
    }
  }, 240_000);
});

describe('createWarehouse for WAREHOUSE=bigquery', () => {
  it('names the variable that is missing, and refuses names that would break the SQL', () => {
    expect(() => createWarehouse(parseConfig({ WAREHOUSE: 'bigquery' }))).toThrow(
      'WAREHOUSE=bigquery needs BIGQUERY_PROJECT',
    );
    const config = parseConfig({ WAREHOUSE: 'bigquery', BIGQUERY_PROJECT: 'my-project', BIGQUERY_DATASET: 'a`; DROP' });
    expect(() => createWarehouse(config)).toThrow(/Invalid dataset/);
    expect(() => createWarehouse({ ...config, BIGQUERY_PROJECT: 'x`.y', BIGQUERY_DATASET: 'd' })).toThrow(
      /Invalid project/,
    );
  });
});

/** The selftest pipeline's one activity: a warehouse row (merged on run id) and a bucket object. */
import { chaosPoint } from '../../../kit/activity/chaos-points';
import type { Deps } from '../../../activities/deps';
import type { TableSchema } from '../../../sinks/warehouse';
import { columns, fromArray } from '../../../sinks/warehouse';

export const SELFTEST_TABLE: TableSchema = {
  name: 'longhaul_selftest',
  columns: columns({
    run_id: 'STRING!',
    label: 'STRING',
    slept_ms: 'INT64',
    written_at: 'TIMESTAMP',
  }),
  primaryKey: ['run_id'],
  write: { kind: 'merge' },
};

export function createSelftestActivities({ warehouse, bucket }: Pick<Deps, 'warehouse' | 'bucket'>) {
  return {
    async selftestWrite(args: { runId: string; label: string; sleptMs: number }) {
      const objectKey = `selftest/${args.runId}.json`;
      await bucket.put(objectKey, JSON.stringify(args), { contentType: 'application/json' });
      // The chaos suite kills the worker here (the object written, the row not) and below (both written, the
      // activity not completed): the retry writes the same object and merges the same row.
      chaosPoint('selftest.after-object');
      const row = {
        run_id: args.runId,
        label: args.label,
        slept_ms: args.sleptMs,
        written_at: new Date().toISOString(),
      };
      await warehouse.load(SELFTEST_TABLE, fromArray([row]));
      chaosPoint('selftest.after-row');
      const n = await warehouse.count(SELFTEST_TABLE);
      return { table: SELFTEST_TABLE.name, objectKey: bucket.uri(objectKey), rowsInTable: Number(n) };
    },
  };
}

export type SelftestActivities = ReturnType<typeof createSelftestActivities>;

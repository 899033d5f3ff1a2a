/**
 * `selftest`: proves the platform end to end — a durable timer, then one activity that writes a row to
 * the warehouse and an object to the bucket. `longhaul run selftest --sleep 10s --wait`.
 */
import { z } from 'zod';
import { durationMs, formatDuration } from '../../shared/durations';
import { definePipeline, type WorkflowOf } from '../types';
import type * as workflows from './workflows';

export const selftestInput = z.object({
  sleep: durationMs.default(1000).describe('How long the workflow sleeps on a durable timer before writing'),
  label: z.string().min(1).max(200).default('selftest').describe('A label recorded with the row (and in the run’s ID)'),
});
export type SelftestInput = z.input<typeof selftestInput>;

export interface SelftestResult {
  runId: string;
  sleptMs: number;
  table: string;
  objectKey: string;
  rowsInTable: number;
}

export const selftestPipeline = definePipeline({
  name: 'selftest',
  description: 'Durable timer + a warehouse row + a bucket object: checks that the stack works',
  input: selftestInput,
  workflowType: 'selftest' satisfies WorkflowOf<typeof workflows>,
  workflowId: (i) => `selftest-${i.label}`,
  summarize: (r: SelftestResult) =>
    `slept ${r.sleptMs} ms, wrote ${r.objectKey} and a row to ${r.table} (${r.rowsInTable} rows in table)`,
  example: { sleep: '10s', label: 'hello' },
  describeInput: (i) => `Selftest "${i.label}": durable timer of ${formatDuration(i.sleep)}, then a row + an object`,
});

/**
 * Datorama run keys (the workflow IDs the action records are keyed by) carry at least 64 bits of hash.
 */
import { describe, expect, it } from 'vitest';
import { identityHash } from '../../src/pipelines/types';
import {
  datoramaCollectPipeline,
  datoramaPatchPipeline,
  datoramaProcessPipeline,
  datoramaRenamePipeline,
  datoramaRerunAllPipeline,
  datoramaRerunPipeline,
} from '../../src/pipelines/datorama/definition';

describe('datorama run keys', () => {
  const ids = [
    datoramaProcessPipeline.workflowId(
      datoramaProcessPipeline.input.parse({ streams: [1, 2], start: '2025-01-01', end: '2025-01-31' }),
    ),
    datoramaRerunPipeline.workflowId(datoramaRerunPipeline.input.parse({ jobs: ['1:2'] })),
    datoramaRerunAllPipeline.workflowId(datoramaRerunAllPipeline.input.parse({ streams: [1] })),
    datoramaRenamePipeline.workflowId(datoramaRenamePipeline.input.parse({ renames: ['1=a'] })),
    datoramaPatchPipeline.workflowId(datoramaPatchPipeline.input.parse({ streams: [1], fields: { enabled: false } })),
    datoramaCollectPipeline.workflowId(datoramaCollectPipeline.input.parse({})),
  ];

  it('end with a hash of at least 64 bits (16 hex digits)', () => {
    for (const id of ids) expect(id).toMatch(/-[0-9a-f]{16,}$/);
  });

  it('differ for inputs that differ by one stream, and are stable', () => {
    const key = (streams: number[]) =>
      datoramaRerunAllPipeline.workflowId(datoramaRerunAllPipeline.input.parse({ streams }));
    const seen = new Set(Array.from({ length: 2000 }, (_, i) => key([i + 1])));
    expect(seen.size).toBe(2000);
    expect(key([7, 8])).toBe(key([7, 8]));
  });

  it("gives a datorama-collect of configurations its own workflow ID (a jobs-only run's marks would skip them)", () => {
    const collect = datoramaCollectPipeline;
    const id = (x: object) => collect.workflowId(collect.input.parse(x));
    expect(id({ configs: true })).not.toBe(id({}));
    // Runs without configs keep the ID they always had.
    expect(id({})).toBe(`datorama-collect-${identityHash({ w: 'all', j: true })}`);
  });
});

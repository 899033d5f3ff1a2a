/** Datorama action keys are stored in the warehouse (datorama_actions, the job log): their shape is pinned. */
import { describe, expect, it } from 'vitest';
import { actionKey, actionKeys, jobOfKey, restrictAction, streamOfKey } from '../../src/pipelines/datorama/keys';

describe('datorama action keys', () => {
  it('keep the stored shapes', () => {
    expect(actionKey.process(12, '2025-01-01', '2025-01-10')).toBe('p:12:2025-01-01:2025-01-10');
    expect(actionKey.rerun(12, 345)).toBe('r:12:345');
    expect(actionKey.rerunAll(12)).toBe('ra:12');
    expect(actionKey.update(12)).toBe('u:12');
    expect(actionKey.collected(12)).toBe('c:12');
    expect([actionKey.collectWorkspaces(), actionKey.collectStreams(7), actionKey.collectPage(12, 3)]).toEqual([
      'c:workspaces',
      'c:ws:7',
      'c:12:page:3',
    ]);
  });

  it('read back the stream and the job', () => {
    expect(streamOfKey('p:12:2025-01-01:2025-01-10')).toBe(12);
    expect([streamOfKey('r:12:345'), jobOfKey('r:12:345')]).toEqual([12, 345]);
    expect(streamOfKey('c:workspaces')).toBeNaN();
  });

  it('give one key per action of a call, and narrow a call to some of its keys', () => {
    const process = { kind: 'process' as const, streams: [1, 2, 3], start: '2025-01-01', end: '2025-01-10' };
    expect(actionKeys(process).map((k) => k.key)).toEqual([
      'p:1:2025-01-01:2025-01-10',
      'p:2:2025-01-01:2025-01-10',
      'p:3:2025-01-01:2025-01-10',
    ]);
    expect(restrictAction(process, ['p:3:2025-01-01:2025-01-10'])).toEqual({ ...process, streams: [3] });
    const rerun = { kind: 'rerun' as const, stream: 5, jobs: [10, 11] };
    expect(actionKeys(rerun)).toEqual([
      { key: 'r:5:10', stream: 5 },
      { key: 'r:5:11', stream: 5 },
    ]);
    expect(restrictAction(rerun, ['r:5:11'])).toEqual({ ...rerun, jobs: [11] });
    expect(actionKeys({ kind: 'rerun-all', stream: 5 })).toEqual([{ key: 'ra:5', stream: 5 }]);
    expect(actionKeys({ kind: 'patch', stream: 5, fields: {}, previous: {} })).toEqual([{ key: 'u:5', stream: 5 }]);
  });
});

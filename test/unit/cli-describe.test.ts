/**
 * The one-line summary the client writes on a run (the Web UI's summary, `longhaul status`, the memo), for
 * each pipeline that has its own, from the validated input as `longhaul run` passes it.
 */
import { describe, expect, it } from 'vitest';
import { describeRun } from '../../src/cli/render';
import { PIPELINES } from '../../src/pipelines';

const summary = (name: keyof typeof PIPELINES, raw: unknown) => {
  const p = PIPELINES[name];
  return describeRun(p, p.input.parse(raw)).summary;
};

describe('run summaries', () => {
  it('datorama-process: streams, range, chunks and the throttle', () => {
    expect(summary('datorama-process', { streams: [1, 2, 3], start: '2026-01-01', end: '2026-02-14' })).toBe(
      'Datorama process 3 stream(s) 2026-01-01 → 2026-02-14 in chunks of 10 days',
    );
    expect(
      summary('datorama-process', {
        ranges: [{ stream: 4, start: '2026-01-01', end: '2026-01-05' }],
        dRange: 5,
        workspaceThrottle: 3,
      }),
    ).toBe('Datorama process 1 stream range(s) in chunks of 5 days, at most 3 jobs running per workspace');
  });

  it('datorama-rerun / rerun-all: jobs and streams', () => {
    expect(summary('datorama-rerun', { jobs: ['10:1', '10:2', '11:3'] })).toBe(
      'Datorama rerun of 3 job(s) in 2 stream(s)',
    );
    expect(summary('datorama-rerun-all', { streams: [10, 11] })).toBe('Datorama rerun of every job of 2 stream(s)');
  });

  it('datorama-rename / patch: what changes, or which run is undone', () => {
    expect(summary('datorama-rename', { renames: ['10=A', '11=B'] })).toBe('Datorama rename of 2 stream(s)');
    expect(summary('datorama-rename', { undo: 'run-1' })).toBe('Datorama undo of run run-1');
    expect(summary('datorama-patch', { streams: [10], fields: { enabled: false, name: 'x' } })).toBe(
      'Datorama patch of 1 stream(s): enabled, name',
    );
    expect(summary('datorama-patch', { patches: [{ stream: 10, fields: { name: 'y' } }] })).toBe(
      'Datorama patch of 1 stream(s)',
    );
  });

  it('datorama-collect: scope, jobs and the call cap', () => {
    expect(summary('datorama-collect', {})).toBe(
      'Datorama metadata of every workspace: workspaces, streams, jobs (pages of 100)',
    );
    expect(summary('datorama-collect', { workspaces: [5001], jobs: false })).toBe(
      'Datorama metadata of 1 workspace(s): workspaces, streams',
    );
    expect(summary('datorama-collect', { maxCalls: 500 })).toMatch(/, at most 500 job calls$/);
  });

  it('youtube-watch: query, interval and backfill', () => {
    expect(summary('youtube-watch', { query: 'lofi', intervalSeconds: 30 })).toBe(
      'YouTube watcher for "lofi": every 30 s → the videos store',
    );
  });
});

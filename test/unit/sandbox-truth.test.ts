/**
 * The sandboxes' record of the truth (`GET /__sandbox/truth`), which the chaos suite compares every run
 * with: what an answer served and whether the client received it whole (an injected malformed or truncated
 * body, or an error, is not delivered), and what a call applied; and the suite's checks against it.
 */
import { describe, expect, it } from 'vitest';
import type { TruthRecord } from '../../src/sandbox/server';
import { DailymotionSandbox, rowsPerDay } from '../../src/pipelines/dailymotion/sandbox/server';
import { planReport } from '../../src/pipelines/dailymotion/sandbox/rows';
import { DatoramaSandbox } from '../../src/pipelines/datorama/sandbox';
import { YoutubeSandbox } from '../../src/pipelines/youtube/sandbox';
import { fakeId } from '../../src/pipelines/youtube/sandbox/videos';
import { dailymotionServed, datoramaTruth } from '../chaos/truth';
import { stoppedAfterEach } from '../helpers/lifetimes';

const stopLater = stoppedAfterEach();

async function truthOf(url: string, kind?: string): Promise<TruthRecord[]> {
  const res = await fetch(`${url}/__sandbox/truth${kind ? `?kind=${kind}` : ''}`);
  expect(res.status).toBe(200);
  return ((await res.json()) as { records: TruthRecord[] }).records;
}

describe('sandbox truth', () => {
  it('youtube: the IDs each videos.list answer served, and whether the answer arrived whole', async () => {
    const yt = stopLater(new YoutubeSandbox({ seed: 3, projects: [{ id: 'p', keys: ['k1'] }], missingRate: 0 }));
    const url = await yt.start(0);
    const ids = [fakeId(3, 'a'), fakeId(3, 'b')];
    const call = () =>
      fetch(`${url}/youtube/v3/videos?part=id,snippet&id=${ids.join(',')}&key=k1`).then((r) => r.text());
    await call();
    yt.faults.add({ route: 'videos.list', kind: 'malformed', times: 1 });
    await call();
    yt.faults.add({ route: 'videos.list', kind: '503', times: 1 });
    await call();
    const records = await truthOf(url, 'videos.list');
    // The 503 never reached the handler: nothing served. The malformed answer was built, never delivered.
    expect(records.map((r) => r.delivered)).toEqual([true, false]);
    expect(records[0].data).toEqual({ ids, parts: ['id', 'snippet'], asked: 2 });
    expect(await truthOf(url, 'search.list')).toEqual([]);
  });

  it('dailymotion: rows per day of a file, from the report plan', () => {
    const dm = new DailymotionSandbox({ seed: 5 });
    const plan = planReport(dm.catalog, 5, {
      metrics: ['VIEWS'],
      dimensions: ['DAY', 'VISITOR_COUNTRY'],
      startDate: '2026-01-01',
      endDate: '2026-01-03',
    } as never);
    const all = rowsPerDay(plan, 0, plan.total);
    expect(Object.keys(all)).toEqual(['2026-01-01', '2026-01-02', '2026-01-03']);
    expect(Object.values(all)).toEqual([plan.combos, plan.combos, plan.combos]);
    // A file cut in the middle of a day: the two halves add up to the day.
    const cut = Math.floor(plan.combos * 1.5);
    const a = rowsPerDay(plan, 0, cut);
    const b = rowsPerDay(plan, cut, plan.total);
    expect(a['2026-01-02'] + b['2026-01-02']).toBe(plan.combos);
    expect(a['2026-01-03']).toBeUndefined();
  });

  it('datorama: every action the platform applied, once per call that applied it', async () => {
    const dt = stopLater(new DatoramaSandbox({ tokens: ['t1'], seedNow: Date.UTC(2026, 0, 10), streams: 3 }));
    await dt.clock.set(Date.UTC(2026, 0, 10, 12));
    const url = await dt.start(0);
    const stream = dt.data.streams.find((s) => s.enabled)!.id;
    const post = (path: string, body: unknown, method = 'POST') =>
      fetch(`${url}/v1${path}`, {
        method,
        headers: { authorization: 't1', 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
    expect(
      (await post('/data-streams/process', { dataStreamIds: [stream], startDate: '2025-03-01', endDate: '2025-03-15' }))
        .status,
    ).toBe(200);
    expect((await post(`/data-streams/${stream}`, { name: 'renamed' }, 'PATCH')).status).toBe(200);
    expect((await post(`/data-streams/api/${stream}/rerun-all`, {})).status).toBe(200);
    const applied = (await truthOf(url, 'applied')).map((r) => r.data);
    expect(applied.map((a) => `${String(a.action)} ${String(a.stream)} ${String(a.start ?? '')}`)).toEqual([
      `process ${stream} 2025-03-01`,
      `process ${stream} 2025-03-11`,
      `rename ${stream} `,
      `rerun-all ${stream} `,
    ]);
  });
});

describe('chaos truth checks (test/chaos/truth.ts)', () => {
  const rec = (kind: string, data: Record<string, unknown>, delivered = true): TruthRecord => ({
    seq: 0,
    route: kind,
    kind,
    data,
    delivered,
  });
  const noDb = {} as never;

  it('datorama: a day applied twice, a day never applied and an action no input asked for are problems', async () => {
    const started = [
      { workflowType: 'datoramaProcess', input: { streams: [1, 2], start: '2025-03-01', end: '2025-03-03' } },
    ];
    const ok = [
      rec('applied', { action: 'process', stream: 1, start: '2025-03-01', end: '2025-03-03' }),
      rec('applied', { action: 'process', stream: 2, start: '2025-03-01', end: '2025-03-03' }),
    ];
    expect((await datoramaTruth({ dir: '', env: {}, truth: { datorama: ok }, started }, noDb)).problems).toEqual([]);
    const bad = [
      ok[0],
      rec('applied', { action: 'process', stream: 1, start: '2025-03-03', end: '2025-03-03' }, false),
      rec('applied', { action: 'process', stream: 2, start: '2025-03-01', end: '2025-03-02' }),
      rec('applied', { action: 'rename', stream: 2 }),
    ];
    const problems = (await datoramaTruth({ dir: '', env: {}, truth: { datorama: bad }, started }, noDb)).problems;
    expect(problems).toHaveLength(2);
    expect(problems[0]).toMatch(/stream 1 2025-03-03 ×2.*stream 2 2025-03-03 ×0/);
    expect(problems[1]).toMatch(/1 action\(s\) no input asked for: rename 2/);
  });

  it('datorama rerun-all: once per input stream; a repeat that reran no job is allowed, a stream never reached is not', async () => {
    const started = [{ workflowType: 'datoramaRerunAll', input: { streams: [1, 2, 3] } }];
    const ra = (stream: number, jobs: number[]) => rec('applied', { action: 'rerun-all', stream, jobs });
    const check = async (records: TruthRecord[]) =>
      (await datoramaTruth({ dir: '', env: {}, truth: { datorama: records }, started }, noDb)).problems;
    expect(await check([ra(1, [11]), ra(2, []), ra(3, [31, 32])])).toEqual([]);
    // Stream 2 has no jobs: its call was applied, the answer lost, and the call sent again (nothing to check).
    expect(await check([ra(1, [11]), ra(2, []), ra(2, []), ra(3, [31, 32])])).toEqual([]);
    // Never reached (the chaos finding: stream 2 ×0), jobs rerun twice, a stream not asked for.
    expect(await check([ra(1, [11]), ra(3, [31])])).toEqual([
      'datorama: rerun-all applied other than once per stream: stream 2 ×0',
    ]);
    expect(await check([ra(1, [11]), ra(1, [11]), ra(2, []), ra(3, [31]), ra(4, [])])).toEqual([
      'datorama: rerun-all applied other than once per stream: stream 1 ×2, stream 4 ×1',
    ]);
  });

  it('dailymotion: rows served per day come from the last report of each configuration and window', () => {
    const file = (
      token: string,
      askedAt: number,
      configuration: string,
      rows: Record<string, number>,
      delivered = true,
    ) =>
      rec(
        'report-file',
        { reportToken: token, askedAt, configuration, window: 'w', file: 1, files: 1, rowsPerDay: rows },
        delivered,
      );
    const served = dailymotionServed([
      file('old', 1, 'A', { d1: 5 }),
      file('new', 2, 'A', { d1: 7 }),
      file('b', 1, 'B', { d1: 3 }),
      file('c', 3, 'B', { d1: 100 }, false), // truncated download: not served
    ]);
    expect(served.perDay.get('d1')).toBe(10);
    expect([...served.configurations].sort()).toEqual(['A', 'B']);
    expect(served.problems).toEqual([]);
  });
});

/**
 * The sandboxes' record of the truth (`GET /__sandbox/truth`), which the chaos suite compares every run
 * with: what an answer served and whether the client received it whole (an injected malformed or truncated
 * body, or an error, is not delivered), and what a call applied.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { SandboxServer, TruthRecord } from '../../src/sandbox/server';
import { DailymotionSandbox, rowsPerDay } from '../../src/sandbox/dailymotion/server';
import { planReport } from '../../src/sandbox/dailymotion/rows';
import { DatoramaSandbox } from '../../src/sandbox/datorama';
import { YoutubeSandbox } from '../../src/sandbox/youtube';
import { fakeId } from '../../src/sandbox/youtube/videos';

let sandbox: SandboxServer | undefined;
afterEach(async () => {
  await sandbox?.stop();
  sandbox = undefined;
});

async function truthOf(url: string, kind?: string): Promise<TruthRecord[]> {
  const res = await fetch(`${url}/__sandbox/truth${kind ? `?kind=${kind}` : ''}`);
  expect(res.status).toBe(200);
  return ((await res.json()) as { records: TruthRecord[] }).records;
}

describe('sandbox truth', () => {
  it('youtube: the IDs each videos.list answer served, and whether the answer arrived whole', async () => {
    const yt = new YoutubeSandbox({ seed: 3, projects: [{ id: 'p', keys: ['k1'] }], missingRate: 0 });
    sandbox = yt;
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
    const dt = new DatoramaSandbox({ tokens: ['t1'], seedNow: Date.UTC(2026, 0, 10), streams: 3 });
    sandbox = dt;
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

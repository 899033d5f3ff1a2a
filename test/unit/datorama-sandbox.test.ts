/**
 * The Datorama sandbox and connector together: the 61st call inside 60 s is a 429 with the headers'
 * reset, the daily quota resets at 00:00 UTC, PUT clears omitted fields where PATCH does not, and
 * ranges over 10 days become several jobs. Also the chunking of the process pipeline.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { DatoramaClient } from '../../src/pipelines/datorama/connector/client';
import { DatoramaRateLimitedError } from '../../src/pipelines/datorama/connector/errors';
import { DatoramaSandbox } from '../../src/pipelines/datorama/sandbox';
import { chunkRange, spacingMs } from '../../src/pipelines/datorama/shared';
import { planBatches } from '../../src/pipelines/datorama/workflows/process';

let sandbox: DatoramaSandbox | undefined;
afterEach(async () => {
  await sandbox?.stop();
  sandbox = undefined;
});

async function start(opts: ConstructorParameters<typeof DatoramaSandbox>[0] = {}) {
  sandbox = new DatoramaSandbox({ tokens: ['t1'], seedNow: Date.UTC(2026, 0, 10, 12), ...opts });
  await sandbox.clock.set(Date.UTC(2026, 0, 10, 12));
  const url = await sandbox.start(0);
  return new DatoramaClient({ baseUrl: `${url}/v1`, token: 't1' });
}

describe('datorama sandbox + connector', () => {
  it('answers 429 on the 61st call within 60 s, with the reset of the sliding window', async () => {
    const client = await start({ streams: 4 });
    const t0 = Date.UTC(2026, 0, 10, 12);
    sandbox!.clock.follow(() => t0); // frozen: only advance() moves it, so no real-time drift
    for (let i = 0; i < 60; i++) {
      const r = await client.listWorkspaces();
      expect(r.limits.minuteRemaining).toBe(59 - i);
      sandbox!.clock.advance(500);
    }
    const err = await client.listWorkspaces().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DatoramaRateLimitedError);
    expect((err as DatoramaRateLimitedError).scope).toBe('minute');
    expect(sandbox!.log[0].at).toBe(t0);
    expect((err as DatoramaRateLimitedError).resetAt).toBe(t0 + 60_000);
    expect(await sandbox!.clock.now()).toBe(t0 + 30_000);
    sandbox!.clock.advance(29_999); // 1 ms before the first call leaves the window: still refused
    expect(await client.listWorkspaces().catch((e: unknown) => e)).toBeInstanceOf(DatoramaRateLimitedError);
    sandbox!.clock.advance(1);
    const ok = await client.listWorkspaces();
    expect(ok.limits.dayRemaining).toBe(20_000 - 61);
  });

  it('caps the day and resets at 00:00 UTC', async () => {
    const client = await start({ streams: 2, perDay: 3 });
    for (let i = 0; i < 3; i++) await client.listWorkspaces();
    const err = (await client.listWorkspaces().catch((e: unknown) => e)) as DatoramaRateLimitedError;
    expect(err.scope).toBe('day');
    expect(err.resetAt).toBe(Date.UTC(2026, 0, 11));
    await sandbox!.clock.set(Date.UTC(2026, 0, 11));
    expect((await client.listWorkspaces()).limits.dayRemaining).toBe(2);
  });

  it('PUT clears the fields it omits; PATCH changes only the named ones', async () => {
    const client = await start({ streams: 2 });
    const id = sandbox!.data.streams[0].id;
    const before = (await client.getStream(id)).data;
    await client.patchStream(id, { name: 'Renamed' });
    const patched = (await client.getStream(id)).data as Record<string, unknown>;
    expect(patched.name).toBe('Renamed');
    expect(patched.description).toBe((before as Record<string, unknown>).description);
    await client.replaceStream(id, { name: 'Replaced' });
    const put = (await client.getStream(id)).data as Record<string, unknown>;
    expect(put).toMatchObject({ name: 'Replaced', description: null, config: null, schedule: null });
  });

  it('a 25-day process is 3 jobs, and jobs move from PENDING to a final status', async () => {
    const client = await start({ streams: 3, failEvery: 0, maxJobs: 0 });
    const id = sandbox!.data.streams.find((s) => s.enabled)!.id;
    const jobs = (await client.processStream(id, '2025-01-01', '2025-01-25')).data;
    expect(jobs.map((j) => [j.dataStartDate, j.dataEndDate, j.status])).toEqual([
      ['2025-01-01', '2025-01-10', 'PENDING'],
      ['2025-01-11', '2025-01-20', 'PENDING'],
      ['2025-01-21', '2025-01-25', 'PENDING'],
    ]);
    sandbox!.clock.advance(10 * 60_000);
    const stats = (await client.streamStats(id, 1, 10)).data;
    expect(stats.map((j) => j.status)).toEqual(['SUCCESS', 'SUCCESS', 'SUCCESS']);
  });

  it('refuses "Bearer" tokens', async () => {
    const url = (await start()) && sandbox!.url;
    const err = await new DatoramaClient({ baseUrl: `${url}/v1`, token: 'Bearer t1' })
      .listWorkspaces()
      .catch((e: unknown) => e);
    expect((err as Error).name).toBe('DatoramaAuthError');
  });
});

describe('datorama chunks and batches', () => {
  it('45 days at dRange 10 are 5 chunks; streams sharing a chunk share a call', () => {
    expect(chunkRange('2025-01-01', '2025-02-14', 10)).toHaveLength(5);
    const ranges = [1, 2, 3].map((stream) => ({ stream, start: '2025-01-01', end: '2025-02-14' }));
    ranges.push({ stream: 4, start: '2025-01-05', end: '2025-01-14' });
    const batches = planBatches(ranges, 10, 2);
    expect(batches.filter((b) => b.start === '2025-01-01')).toEqual([
      { start: '2025-01-01', end: '2025-01-10', streams: [1, 2], workspaceId: undefined },
      { start: '2025-01-01', end: '2025-01-10', streams: [3], workspaceId: undefined },
    ]);
    expect(batches).toHaveLength(11);
    expect(spacingMs(60, 50)).toBe(1050);
  });
});

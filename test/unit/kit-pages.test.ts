/**
 * kit/activity/pages.ts checkpointedPages: the loop Titelive extract, YouTube fetch and the YouTube watcher
 * page with. Resumes from the newest of the heartbeat's and the stored checkpoint, stores then heartbeats
 * each page's checkpoint, stops between pages when cancelled, and a stale attempt stores nothing.
 */
import { describe, expect, it, vi, afterEach } from 'vitest';
import { MockActivityEnvironment } from '@temporalio/testing';
import { checkpointedPages, type CheckpointStore, type PageStep } from '../../src/kit/activity/pages';
import { liveAttempt } from '../helpers/activity';

interface Ck {
  page: number;
}

/** A stored checkpoint in memory, and the pages an API of `total` pages served, by number. */
function fixture(total: number, stored?: Ck) {
  const served: number[] = [];
  const writes: Ck[] = [];
  let copy = stored;
  const store: CheckpointStore<Ck> = {
    read: async () => copy,
    write: async (c) => void writes.push((copy = c)),
  };
  const loop = {
    what: 'test pages',
    initial: { page: 0 },
    store,
    newer: (a: Ck, b: Ck) => a.page > b.page,
    async page(ck: Ck): Promise<PageStep<Ck, string>> {
      if (ck.page >= total) return { stop: `done at ${ck.page}` };
      served.push(ck.page + 1);
      return { next: { page: ck.page + 1 } };
    },
  };
  return { served, writes, loop };
}

const env = (heartbeatDetails?: unknown, heartbeatTimeoutMs = 60_000) =>
  new MockActivityEnvironment({ ...liveAttempt(), heartbeatTimeoutMs, heartbeatDetails });

describe('checkpointedPages', () => {
  afterEach(() => vi.useRealTimers());

  it('pages from the start, storing then heartbeating each checkpoint', async () => {
    const { served, writes, loop } = fixture(3);
    const e = env();
    const beats: unknown[] = [];
    e.on('heartbeat', (d: unknown) => beats.push(d));
    expect(await e.run(() => checkpointedPages(loop))).toBe('done at 3');
    expect(served).toEqual([1, 2, 3]);
    expect(writes).toEqual([{ page: 1 }, { page: 2 }, { page: 3 }]);
    expect(beats).toEqual([{ page: 0 }, { page: 1 }, { page: 2 }, { page: 3 }]);
  });

  it('a last page that stops with its checkpoint has it stored and heartbeated before the result', async () => {
    const { writes, loop } = fixture(3);
    const page = loop.page;
    loop.page = async (ck: Ck) => (ck.page === 2 ? { next: { page: 3 }, stop: 'done with page 3' } : page(ck));
    const e = env();
    const beats: unknown[] = [];
    e.on('heartbeat', (d: unknown) => beats.push(d));
    expect(await e.run(() => checkpointedPages(loop))).toBe('done with page 3');
    expect(writes).toEqual([{ page: 1 }, { page: 2 }, { page: 3 }]);
    expect(beats.at(-1)).toEqual({ page: 3 });
  });

  it('resumes from the stored checkpoint when it is newer than the heartbeat (a beat throttled away)', async () => {
    const { served, loop } = fixture(5, { page: 3 });
    expect(await env({ page: 2 }).run(() => checkpointedPages(loop))).toBe('done at 5');
    expect(served).toEqual([4, 5]);
  });

  it('resumes from the heartbeat when it is newer than the stored copy', async () => {
    const { served, loop } = fixture(5, { page: 1 });
    await env({ page: 4 }).run(() => checkpointedPages(loop));
    expect(served).toEqual([5]);
  });

  /** Pages `loop` and cancels the attempt (with `reason`) while its page 2 is served. */
  async function cancelledOnPage2(reason: 'WORKER_SHUTDOWN' | 'CANCELLED') {
    const f = fixture(10);
    const e = env();
    const page = f.loop.page;
    f.loop.page = async (ck: Ck) => {
      const r = await page(ck);
      if (ck.page === 1) e.cancel(reason);
      return r;
    };
    const error = await e
      .run(() => checkpointedPages(f.loop))
      .then(
        () => undefined,
        (err: unknown) => err,
      );
    return { ...f, error };
  }

  it('a worker shutting down stores the page in hand, then stops before the next page', async () => {
    const { served, writes, error } = await cancelledOnPage2('WORKER_SHUTDOWN');
    expect(error).toBeDefined();
    expect(served).toEqual([1, 2]);
    expect(writes.at(-1)).toEqual({ page: 2 });
  });

  it('a cancelled attempt (another owner) stores nothing more and stops', async () => {
    const { served, writes, error } = await cancelledOnPage2('CANCELLED');
    expect(String(error)).toMatch(/store the checkpoint: not done, the attempt was cancelled/);
    expect(served).toEqual([1, 2]);
    expect(writes).toEqual([{ page: 1 }]);
  });

  it('a stale attempt (no beat for longer than its heartbeat timeout) stores no checkpoint', async () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    const { writes, loop } = fixture(10);
    const page = loop.page;
    loop.page = async (ck: Ck) => {
      if (ck.page === 2) vi.advanceTimersByTime(56_000); // the process stopped mid-page, then resumed
      return page(ck);
    };
    await expect(env().run(() => checkpointedPages(loop))).rejects.toThrow(/store the checkpoint: not done/);
    expect(writes).toEqual([{ page: 1 }, { page: 2 }]);
  });
});

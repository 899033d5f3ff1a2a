/**
 * kit/activity/heartbeat.ts assertAttemptLive: an attempt that went past its heartbeat timeout without a beat
 * (its process stopped, then resumed) refuses the writes a successor may also make — and keeps refusing.
 */
import { describe, expect, it, vi, afterEach } from 'vitest';
import { MockActivityEnvironment } from '@temporalio/testing';
import { assertAttemptLive, beat } from '../../src/kit/activity/heartbeat';

const HOURS_2 = 2 * 3_600_000;
const env = (heartbeatTimeoutMs?: number, startToCloseTimeoutMs = HOURS_2) =>
  new MockActivityEnvironment({
    heartbeatTimeoutMs,
    startToCloseTimeoutMs,
    currentAttemptScheduledTimestampMs: Date.now(),
  });

describe('assertAttemptLive', () => {
  afterEach(() => vi.useRealTimers());

  it('lets a live attempt write, between beats closer than the heartbeat timeout', async () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    await env(60_000).run(async () => {
      beat({ page: 1 });
      vi.advanceTimersByTime(50_000);
      assertAttemptLive('write page 2');
      beat({ page: 2 });
      vi.advanceTimersByTime(50_000);
      assertAttemptLive('write page 3');
    });
  });

  it('refuses after a gap past the heartbeat timeout (less 5 s), and still after a new beat', async () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    await env(60_000).run(async () => {
      beat({ page: 1 });
      vi.advanceTimersByTime(56_000); // stopped: past 60 s − 5 s
      expect(() => assertAttemptLive('write page 2')).toThrow(
        /write page 2: not done, attempt 1 went longer than its heartbeat timeout/,
      );
      beat({ page: 2 }); // a beat after the gap does not make the attempt live again
      expect(() => assertAttemptLive('write page 3')).toThrow(/AttemptStale|heartbeat timeout/);
    });
  });

  it('a gap seen at a beat counts too', async () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    await env(60_000).run(async () => {
      beat();
      vi.advanceTimersByTime(70_000);
      beat();
      expect(() => assertAttemptLive('checkpoint')).toThrow(/heartbeat timeout/);
    });
  });

  it('without a heartbeat timeout, or before the first beat, only cancellation is checked', async () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    await env(undefined).run(async () => {
      beat();
      vi.advanceTimersByTime(10 * 60_000);
      assertAttemptLive('write');
    });
    await env(60_000).run(async () => {
      vi.advanceTimersByTime(10 * 60_000);
      assertAttemptLive('write');
    });
  });

  it('refuses within 5 s of the start-to-close deadline (by the schedule time or the first beat)', async () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    await env(undefined, 30_000).run(async () => {
      beat();
      vi.advanceTimersByTime(24_000);
      assertAttemptLive('call');
      vi.advanceTimersByTime(2_000);
      expect(() => assertAttemptLive('call')).toThrow(/call: not done, attempt 1 is past .* start-to-close timeout/);
    });
  });

  it('an attempt cancelled by its worker shutting down may finish its step', async () => {
    // Refusing it left titelive's page checkpoint one page back (clean-clone CI: test/workflows/titelive-durability).
    const outcome = async (reason: 'WORKER_SHUTDOWN' | 'CANCELLED') => {
      const e = env(60_000);
      const run = e.run(async () => {
        await new Promise((r) => setTimeout(r, 50));
        try {
          assertAttemptLive('checkpoint');
          return 'written';
        } catch (err) {
          return String(err);
        }
      });
      e.cancel(reason);
      return run.catch((err: unknown) => `run: ${String(err)}`);
    };
    expect(await outcome('WORKER_SHUTDOWN')).toBe('written');
    expect(await outcome('CANCELLED')).toMatch(/checkpoint: not done, the attempt was cancelled/);
  });

  it('a cancelled attempt is refused', async () => {
    const e = env(60_000);
    const run = e.run(async () => {
      await new Promise((r) => setTimeout(r, 50));
      assertAttemptLive('write');
    });
    e.cancel();
    await expect(run).rejects.toThrow(/cancel/i);
  });
});

/**
 * The Titelive connector against the sandbox: token cache and refresh (before expiry and on a 401),
 * typed errors (429 with Retry-After, 5xx, malformed bodies, refused credentials), the result shape
 * variants, the 20,000-result cap; the range splitting; the image pool bound and the stable image UUIDs.
 */
import { describe, expect, it } from 'vitest';
import { type TiteliveClientOptions, toApiDate } from '../../src/pipelines/titelive/connector/client';
import {
  TiteliveAuthError,
  TiteliveRateLimitedError,
  TiteliveTransientError,
} from '../../src/pipelines/titelive/connector/errors';
import { DEFAULT_IMAGE_RETRY, ImageFetcher, imageUuid } from '../../src/pipelines/titelive/connector/images';
import { ImageHost } from '../../src/pipelines/titelive/sandbox/images';
import { mapLimit } from '../../src/kit/pool';
import {
  TiteliveSandbox,
  TITELIVE_DEMO_PASSWORD,
  TITELIVE_DEMO_USER,
} from '../../src/pipelines/titelive/sandbox/server';
import { splitQuery } from '../../src/pipelines/titelive/workflows/ranges';
import { stoppedAfterEach } from '../helpers/lifetimes';
import { demoClient } from '../helpers/titelive';

const stopLater = stoppedAfterEach();

async function setup(
  opts: ConstructorParameters<typeof TiteliveSandbox>[0] = {},
  clientOpts: Partial<TiteliveClientOptions> = {},
) {
  const sandbox = stopLater(new TiteliveSandbox({ seed: 2, catalog: { books: 300, music: 20 }, ...opts }));
  const client = demoClient(await sandbox.start(), clientOpts);
  return { s: sandbox, client };
}
const q = (page: number, perPage = 50) => ({ base: 'paper' as const, dateMin: '2025-01-01', page, perPage });

describe('titelive client', () => {
  it('logs in once and reuses the token; refreshes it before it expires', async () => {
    let now = 0;
    const { s, client } = await setup({}, { now: () => now });
    for (const p of [1, 2, 3]) expect((await client.search(q(p))).items).toHaveLength(50);
    expect(client.logins).toBe(1);
    now += 271_000; // past the 4.5-minute refresh age
    await client.search(q(4));
    expect(client.logins).toBe(2);
    expect(s.log.filter((e) => e.route === 'search').every((e) => e.status === 200)).toBe(true);
  });

  it('on a 401 (expired token) logs in again and retries the request', async () => {
    const { s, client } = await setup();
    await client.search(q(1));
    s.clock.advance(6 * 60_000);
    const page = await client.search(q(2));
    expect(page.items).toHaveLength(50);
    expect(s.log.map((e) => [e.route, e.status])).toEqual([
      ['login', 200],
      ['search', 200],
      ['search', 401],
      ['login', 200],
      ['search', 200],
    ]);
  });

  it('types failures: 429 (with Retry-After), 5xx, malformed body, refused credentials', async () => {
    const { s, client } = await setup();
    s.failPage(1, 429, 1, 7);
    const e429 = await client.search(q(1)).catch((e: unknown) => e);
    expect(e429).toBeInstanceOf(TiteliveRateLimitedError);
    expect((e429 as TiteliveRateLimitedError).retryAfterMs).toBe(7000);
    s.failPage(1, 503, 1);
    expect(await client.search(q(1)).catch((e: unknown) => e)).toBeInstanceOf(TiteliveTransientError);
    s.faults.add({ route: 'search', kind: 'malformed', times: 1 });
    const bad = await client.search(q(1)).catch((e: unknown) => e);
    expect(bad).toBeInstanceOf(TiteliveTransientError);
    expect((bad as Error).message).toMatch(/malformed JSON/);
    const wrong = demoClient(s.url, { username: 'x', password: 'y' }); // refused credentials
    expect(await wrong.search(q(1)).catch((e: unknown) => e)).toBeInstanceOf(TiteliveAuthError);
  });

  it('reads list and keyed-object results, preserves accents, stops at the result cap', async () => {
    const { s, client } = await setup({ maxResults: 120 });
    const p1 = await client.search(q(1)); // a list
    const p3 = await client.search({ ...q(3, 20) }); // page 3: keyed "0", "1"…
    expect(p1.nbreponses).toBe(300);
    expect(p3.items).toHaveLength(20);
    // Latest modification first (tri_ordre=desc): a product modified while paged cannot push others past a page.
    const all = s.matches('paper', '2025-01-01').reverse();
    expect(p3.items.map((i) => Number(i.id))).toEqual(all.slice(40, 60).map((p) => p.id));
    expect((await client.search(q(3))).items).toHaveLength(20); // 100..119, then the cap
    expect((await client.search(q(4))).items).toHaveLength(0);
    expect(p1.items.map((i) => i.auteurs).join(' ')).toMatch(/[éèëïçœ]/);
  });

  it('sends dates as DD/MM/YYYY', () => {
    expect(toApiDate('2025-03-09')).toBe('09/03/2025');
    expect(() => toApiDate('09/03/2025')).toThrow(/YYYY-MM-DD/);
  });
});

describe('titelive sandbox rate (the measured one: ~70/s in bursts, ~30/s sustained, 429 beyond)', () => {
  it('admits 70 in any second, about 2,000 at 70/s, then 30/s; 429s carry no Retry-After', async () => {
    const { s } = await setup();
    let t = Date.parse('2026-01-01T00:00:00Z');
    s.clock.follow(() => t);
    const ask = async () => {
      const r = await fetch(`${s.url}/v1/login/${TITELIVE_DEMO_USER}/token`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ password: TITELIVE_DEMO_PASSWORD }),
      });
      await r.arrayBuffer();
      if (r.status === 429) expect(r.headers.get('retry-after')).toBeNull();
      return r.status;
    };
    // 80 at once: 70 pass, the rest are refused (the peak).
    const first = await Promise.all(Array.from({ length: 80 }, ask));
    expect(first.filter((x) => x === 200)).toHaveLength(70);
    expect(first.filter((x) => x === 429)).toHaveLength(10);
    // Then one every 15 ms (~67/s) until the reserve runs out: about 2,000 requests in about 30 s.
    t += 1000;
    let ok = 70;
    let seconds = 0;
    for (; seconds < 120; seconds++) {
      let okThisSecond = 0;
      for (let i = 0; i < 66; i++) {
        t += 15;
        if ((await ask()) === 200) okThisSecond++;
      }
      t += 10;
      ok += okThisSecond;
      if (okThisSecond < 50) break;
    }
    expect(ok).toBeGreaterThan(1_800);
    expect(ok).toBeLessThan(2_400);
    expect(seconds).toBeGreaterThan(25);
    // Then ~30 a second, sustained.
    let sustained = 0;
    for (let sec = 0; sec < 10; sec++) {
      for (let i = 0; i < 66; i++) {
        t += 15;
        if ((await ask()) === 200) sustained++;
      }
      t += 10;
    }
    expect(sustained / 10).toBeGreaterThan(27);
    expect(sustained / 10).toBeLessThan(33);
    expect(s.rateLimited).toBeGreaterThan(0);
  });
});

describe('titelive range splitting', () => {
  it('halves a range, then splits a single day by availability, then gives up', () => {
    expect(splitQuery({ dateMin: '2025-01-01', dateMax: '2025-01-10' })).toEqual([
      { dateMin: '2025-01-01', dateMax: '2025-01-05' },
      { dateMin: '2025-01-06', dateMax: '2025-01-10' },
    ]);
    expect(splitQuery({ dateMin: '2025-01-01', dateMax: '2025-01-02' })).toEqual([
      { dateMin: '2025-01-01', dateMax: '2025-01-01' },
      { dateMin: '2025-01-02', dateMax: '2025-01-02' },
    ]);
    const day = splitQuery({ dateMin: '2025-01-01', dateMax: '2025-01-01' })!;
    expect(day.map((x) => x.dispo)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(splitQuery(day[1])).toBeUndefined();
  });
});

describe('titelive images', () => {
  it('names images by a stable v5 UUID of their URL', () => {
    const u = imageUuid('https://images.epagine.fr/541/9782370730541_1_75.jpg');
    expect(u).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(imageUuid('https://images.epagine.fr/541/9782370730541_1_75.jpg')).toBe(u);
    expect(imageUuid('https://images.epagine.fr/541/9782370730541_4_75.jpg')).not.toBe(u);
  });

  it('downloads through a bounded keep-alive pool: never more sockets than the pool', async () => {
    const { s } = await setup({ images: { rates: { missing: 0, broken: 0, flaky: 0, slow: 0 }, latencyMs: 10 } });
    const fetcher = new ImageFetcher({ poolSize: 3, imagesBaseUrl: s.images.url });
    const urls = Array.from({ length: 60 }, (_, i) => `https://images.epagine.fr/00${i % 10}/978000000${i}_1_75.jpg`);
    const out = await mapLimit(urls, 20, (u) => fetcher.fetch(u));
    fetcher.destroy();
    expect(out.every((o) => o.kind === 'ok')).toBe(true);
    expect(s.images.peakConnections).toBe(3);
    expect(s.images.totalConnections).toBe(3);
  });

  it('over TLS: trusts the CA it is given, refuses an untrusted host without retrying, sets each connection up once', async () => {
    const host = new ImageHost({
      seed: 3,
      rates: { missing: 0, broken: 0, flaky: 0, slow: 0 },
      tls: { handshakeMs: 30 },
    });
    const url = await host.start();
    try {
      expect(url).toMatch(/^https:\/\/127\.0\.0\.1:/);
      const urls = Array.from({ length: 40 }, (_, i) => `https://images.epagine.fr/00${i % 10}/978100000${i}_1_75.jpg`);
      const trusting = new ImageFetcher({ poolSize: 4, imagesBaseUrl: url, ca: host.certificate });
      const t0 = performance.now();
      const out = await mapLimit(urls, 4, (u) => trusting.fetch(u));
      const ms = performance.now() - t0;
      trusting.destroy();
      expect(out.every((o) => o.kind === 'ok' && o.body.length > 0)).toBe(true);
      expect(host.totalConnections).toBe(4);
      // The setup cost was paid (a lower bound only: no timing ceiling in a test); 4 connections for 40 images.
      expect(ms).toBeGreaterThanOrEqual(30);

      const before = host.totalConnections;
      const untrusting = new ImageFetcher({ poolSize: 1, imagesBaseUrl: url });
      const refused = await untrusting.fetch(urls[0]!, { retries: 2, backoffMs: 1, maxDelayMs: 10 });
      untrusting.destroy();
      expect(refused).toMatchObject({ kind: 'failed', attempts: 1 });
      expect((refused as { reason: string }).reason).toMatch(/^TLS .*not trusted/);
      expect(host.totalConnections - before).toBe(1);
    } finally {
      await host.stop();
    }
  });

  it('retries as the replaced script did (10 times by default), honours Retry-After, and stops before its deadline', async () => {
    expect(DEFAULT_IMAGE_RETRY).toMatchObject({ retries: 10, backoffMs: 1000 });
    const host = new ImageHost({ seed: 4, rates: { missing: 0, broken: 1, flaky: 0, slow: 0 } });
    const url = await host.start();
    const fetcher = new ImageFetcher({ poolSize: 2, imagesBaseUrl: url });
    try {
      const u = (i: number) => `https://images.epagine.fr/001/97820000000${i}_1_75.jpg`;
      // An image that always fails: the first attempt and every retry, then failed with the count.
      const broken = await fetcher.fetch(u(1), { retries: 10, backoffMs: 1, maxDelayMs: 4 });
      expect(broken).toMatchObject({
        kind: 'failed',
        httpStatus: 500,
        attempts: 11,
        reason: 'HTTP 500 after 11 attempts',
      });

      // A 429 with Retry-After: 1 s waits the host's second (not the 1 ms backoff), capped by maxDelayMs.
      const ok = new ImageHost({ seed: 4, rates: { missing: 0, broken: 0, flaky: 0, slow: 0 } });
      const okUrl = await ok.start();
      try {
        ok.faults.add({ route: 'image', kind: '429', times: 1, retryAfterSec: 1 });
        const f2 = new ImageFetcher({ poolSize: 1, imagesBaseUrl: okUrl });
        const t0 = Date.now();
        expect(await f2.fetch(u(2), { retries: 3, backoffMs: 1, maxDelayMs: 60_000 })).toMatchObject({
          kind: 'ok',
          attempts: 2,
        });
        expect(Date.now() - t0).toBeGreaterThanOrEqual(900);
        ok.faults.add({ route: 'image', kind: '429', times: 1, retryAfterSec: 30 });
        expect(await f2.fetch(u(3), { retries: 3, backoffMs: 1, maxDelayMs: 5 })).toMatchObject({
          kind: 'ok',
          attempts: 2,
        });
        f2.destroy();
      } finally {
        await ok.stop();
      }

      // A retry that would wait past the deadline is not made: the image is failed for a later pass.
      const late = await fetcher.fetch(u(4), {
        retries: 10,
        backoffMs: 40,
        maxDelayMs: 10_000,
        deadline: Date.now() + 100,
      });
      expect(late.kind).toBe('failed');
      expect(late.attempts).toBeLessThan(4);
      expect((late as { reason: string }).reason).toMatch(/no time left to retry in this pass/);
    } finally {
      fetcher.destroy();
      await host.stop();
    }
  });

  it('classifies 404 as missing and retries 500s', async () => {
    const { s } = await setup({ images: { rates: { missing: 0.5, broken: 0, flaky: 0.5, slow: 0 } } });
    const fetcher = new ImageFetcher({ poolSize: 2, imagesBaseUrl: s.images.url });
    const urls = Array.from({ length: 20 }, (_, i) => `https://images.epagine.fr/001/97800000${i}_1_75.jpg`);
    for (const u of urls) {
      const o = await fetcher.fetch(u, { retries: 2, backoffMs: 1, maxDelayMs: 10 });
      const b = s.images.behaviour(new URL(u).pathname);
      if (b === 'missing') expect(o).toMatchObject({ kind: 'missing', httpStatus: 404, attempts: 1 });
      else expect(o).toMatchObject({ kind: 'ok', attempts: 2 });
    }
    fetcher.destroy();
  });
});

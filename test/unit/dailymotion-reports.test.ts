/**
 * Report files end to end, client against the sandbox: ask → IN_PROGRESS → FINISHED once the sandbox
 * clock passes the generation time → every link (paged, several files) downloaded and parsed with
 * csv-parse equals the sandbox's expected rows; BOM; the 2-generating limit (`concurrency_limit`);
 * requests the API refuses (`invalid_request`); FAILED and EXPIRED reports and gone links; a streamed
 * file of over a million rows.
 */
import { parse } from 'csv-parse';
import { parse as parseSync } from 'csv-parse/sync';
import type { Readable } from 'node:stream';
import axios from 'axios';
import { describe, expect, it } from 'vitest';
import type { AskReportInput } from '../../src/pipelines/dailymotion/connector/enums';
import { DailymotionApiError, ReportLinkGoneError } from '../../src/pipelines/dailymotion/connector/errors';
import { SandboxClock } from '../../src/sandbox/clock';
import { dailymotionSandboxPerTest, NINE_DIMENSIONS } from '../helpers/dailymotion';
import { rejection } from '../helpers/rejection';

const setup = dailymotionSandboxPerTest(11);

async function text(stream: Readable): Promise<string> {
  const parts: Buffer[] = [];
  for await (const c of stream) parts.push(Buffer.from(c as Buffer));
  return Buffer.concat(parts).toString('utf8');
}

const ASK: AskReportInput = {
  metrics: ['VIEWS', 'TIME_WATCHED_SECONDS'],
  dimensions: ['HOUR', 'VIDEO_ID', 'VIDEO_TITLE'],
  startDate: '2025-06-27',
  endDate: '2025-06-28',
  product: 'CONTENT',
};

describe('dailymotion reports: ask → poll → download', () => {
  it('finishes after the generation time on the sandbox clock; all links (paged) parse to the expected rows', async () => {
    const { s, client } = await setup({ generationMs: 20 * 60_000, rowsPerFile: 100 }, { linksPageSize: 2 });
    const token = await client.askReport(ASK);
    expect(await client.getReport(token)).toEqual({ status: 'IN_PROGRESS', links: [] });
    s.clock.advance(19 * 60_000);
    expect((await client.getReport(token)).status).toBe('IN_PROGRESS');
    s.clock.advance(60_000);
    const report = await client.getReport(token);
    expect(report.status).toBe('FINISHED');

    const expected = s.expectedRows(token);
    expect(expected.total).toBe(48 * 12); // 48 hours × 12 videos
    expect(report.links).toHaveLength(Math.ceil(expected.total / 100));
    // links were read over several pages of 2
    const statusCalls = s.log.filter((e) => e.route === 'graphql').length;
    expect(statusCalls).toBe(1 + 2 + Math.ceil(report.links.length / 2));

    const rows: string[][] = [];
    for (const link of report.links) {
      const records = parseSync(await text(await client.downloadCsv(link)), { bom: true }) as string[][];
      expect(records[0]).toEqual(['hour', 'video_id', 'video_title', 'views', 'time_watched_seconds']);
      rows.push(...records.slice(1));
    }
    expect(rows).toEqual(expected.rows);
    expect(rows[0][0]).toBe('2025-06-27 00:00:00');
    expect(rows.at(-1)![0]).toBe('2025-06-28 23:00:00');
    expect(rows.some((r) => r[2].includes(',') && r[2].includes('"'))).toBe(true);
    expect(rows.some((r) => [...r[2]].some((ch) => ch.codePointAt(0)! > 127))).toBe(true);
  });

  it('the same ask gives the same rows; a BOM, when the sandbox sends one, is handled by csv-parse', async () => {
    const { s, client } = await setup({ generationMs: 1000, bom: true });
    const ask: AskReportInput = {
      ...ASK,
      dimensions: ['DAY', 'VISITOR_COUNTRY'],
      startDate: '2025-05-01',
      endDate: '2025-05-03',
    };
    const t1 = await client.askReport(ask);
    s.clock.advance(1000);
    const t2 = await client.askReport(ask);
    s.clock.advance(1000);
    const [l1, l2] = [(await client.getReport(t1)).links, (await client.getReport(t2)).links];
    const raw = await text(await client.downloadCsv(l1[0]));
    expect(raw.charCodeAt(0)).toBe(0xfeff);
    const a = parseSync(raw, { bom: true }) as string[][];
    expect(a[0][0]).toBe('day');
    const b = parseSync(await text(await client.downloadCsv(l2[0])), { bom: true }) as string[][];
    expect(b).toEqual(a);
    expect(a.slice(1)).toEqual(s.expectedRows(ask).rows);
    expect((parseSync(raw) as string[][])[0][0]).toBe('\ufeffday'); // the BOM is really there
  });
});

describe('dailymotion reports: limits', () => {
  it('a third report while 2 are generating is refused as concurrency_limit; never more than 2 generating', async () => {
    const { s, client } = await setup({ generationMs: 2 * 3600_000 });
    const [a, b] = [
      await client.askReport(ASK),
      await client.askReport({ ...ASK, startDate: '2025-06-01', endDate: '2025-06-01' }),
    ];
    const third = await rejection(
      client.askReport({ ...ASK, startDate: '2025-05-01', endDate: '2025-05-02' }),
      DailymotionApiError,
    );
    expect([third.kind, third.retryable, third.status]).toEqual(['concurrency_limit', true, 200]);
    expect(third.message).toMatch(/more than 2 reports/);
    s.clock.advance(2 * 3600_000);
    expect((await client.getReport(a)).status).toBe('FINISHED');
    expect((await client.getReport(b)).status).toBe('FINISHED');
    await client.askReport({ ...ASK, startDate: '2025-05-01', endDate: '2025-05-02' });
    const asks = await s.asks();
    expect(asks.map((x) => x.generatingAtAsk)).toEqual([1, 2, 1]);
    expect(asks[0].finishedAt! - asks[0].askedAt).toBe(2 * 3600_000);
    expect(s.refusedAsks()).toHaveLength(1);
    expect(s.maxConcurrentGenerating()).toBe(2);
  });

  it('> 8 dimensions, a bad range, future dates or an incompatible pair → invalid_request, not retryable', async () => {
    const { s, client } = await setup();
    const today = new Date(await s.clock.now()).toISOString().slice(0, 10);
    const tomorrow = new Date(Date.parse(`${today}T00:00:00Z`) + 86_400_000).toISOString().slice(0, 10);
    const cases: [Partial<AskReportInput>, RegExp][] = [
      [{ dimensions: [...NINE_DIMENSIONS] }, /maximum of 8 dimensions/],
      [{ startDate: '2025-01-01', endDate: '2025-06-30' }, /cannot exceed 180 days/],
      [{ startDate: '2025-06-02', endDate: '2025-06-01' }, /before or equal/],
      [{ startDate: today, endDate: tomorrow }, /future/],
      [{ metrics: ['UPLOADS'], dimensions: ['HOUR'] }, /UPLOADS is not compatible with dimension HOUR/],
      [{ metrics: ['ESTIMATED_EARNINGS_EUR'], dimensions: ['HOUR'] }, /not compatible/],
    ];
    for (const [patch, re] of cases) {
      const e = await rejection(client.askReport({ ...ASK, ...patch }), DailymotionApiError);
      expect([e.kind, e.retryable]).toEqual(['invalid_request', false]);
      expect(e.message).toMatch(re);
    }
    expect(await s.asks()).toHaveLength(0);
    // 180 days exactly is accepted
    await client.askReport({ ...ASK, startDate: '2025-01-01', endDate: '2025-06-29' });
  });

  it('reports expire 48 h after finishing: status EXPIRED, old links → ReportLinkGoneError (404)', async () => {
    const clock = new SandboxClock(() => Date.parse('2025-07-01T12:00:00Z')); // moves only when advanced
    const { s, client } = await setup({ generationMs: 60_000, clock });
    const token = await client.askReport(ASK);
    s.clock.advance(60_000);
    const { links } = await client.getReport(token);
    expect(links.length).toBeGreaterThan(0);
    s.clock.advance(48 * 3600_000 - 1);
    expect((await client.getReport(token)).status).toBe('FINISHED');
    s.clock.advance(1);
    expect(await client.getReport(token)).toEqual({ status: 'EXPIRED', links: [] });
    const gone = await rejection(client.downloadCsv(links[0]), DailymotionApiError);
    expect(gone).toBeInstanceOf(ReportLinkGoneError);
    expect([gone.kind, gone.status, gone.retryable]).toEqual(['not_found', 404, false]);
    expect(gone.message).not.toContain('sig=');
  });

  it('expire-now (admin route), FAILED reports and tampered links', async () => {
    const { s, client } = await setup({ generationMs: 1000 });
    const token = await client.askReport(ASK);
    s.failNextAsks(1);
    const failed = await client.askReport({ ...ASK, startDate: '2025-06-01', endDate: '2025-06-01' });
    s.clock.advance(1000);
    expect(await client.getReport(failed)).toEqual({ status: 'FAILED', links: [] });
    const { links } = await client.getReport(token);
    const tampered = links[0].replace(/sig=[0-9a-f]/, 'sig=z');
    const forbidden = await rejection(client.downloadCsv(tampered), DailymotionApiError);
    expect([forbidden.name, forbidden.status]).toEqual(['ReportLinkGoneError', 403]);
    expect((await axios.post(`${s.url}/__sandbox/dailymotion/reports/${token}/expire`)).status).toBe(204);
    expect((await client.getReport(token)).status).toBe('EXPIRED');
    expect(await rejection(client.downloadCsv(links[0]), DailymotionApiError)).toBeInstanceOf(ReportLinkGoneError);
  });

  it('a failure rate makes a seeded fraction of reports FAIL', async () => {
    const { s, client } = await setup({ generationMs: 0, failureRate: 0.5 });
    const statuses: string[] = [];
    for (let i = 0; i < 40; i++) statuses.push((await client.getReport(await client.askReport(ASK))).status);
    const failed = statuses.filter((x) => x === 'FAILED').length;
    expect(failed).toBeGreaterThan(8);
    expect(failed).toBeLessThan(32);
    expect(statuses.every((x) => x === 'FAILED' || x === 'FINISHED')).toBe(true);
    expect((await s.asks()).filter((a) => a.failed)).toHaveLength(failed);
  });
});

describe('dailymotion reports: size', () => {
  it('streams a report of over a million rows without holding it in memory', async () => {
    const { s, client } = await setup({
      generationMs: 0,
      rowsPerFile: 2_000_000,
      catalog: { videos: 20, countries: 12 },
    });
    const ask: AskReportInput = {
      metrics: ['VIEWS'],
      dimensions: ['HOUR', 'VIDEO_ID', 'VISITOR_COUNTRY'],
      startDate: '2025-01-01',
      endDate: '2025-06-29',
    };
    const token = await client.askReport(ask);
    const { links } = await client.getReport(token);
    expect(links).toHaveLength(1);
    const total = s.expectedRows(ask, { limit: 0 }).total;
    expect(total).toBe(180 * 24 * 20 * 12);
    const last = s.expectedRows(ask, { offset: total - 1, limit: 1 }).rows[0];

    const used = () => {
      const m = process.memoryUsage();
      return m.heapUsed + m.external;
    };
    const before = used();
    let peak = 0;
    let rows = 0;
    let bytes = 0;
    let lastRow: string[] = [];
    const body = await client.downloadCsv(links[0]);
    body.on('data', (c: Buffer) => (bytes += c.length));
    for await (const r of body.pipe(parse({ from_line: 2 })) as AsyncIterable<string[]>) {
      rows++;
      lastRow = r;
      if (rows % 20_000 === 0) peak = Math.max(peak, used() - before);
    }
    expect(rows).toBe(total);
    expect(lastRow).toEqual(last);
    // A ~37 MB file: a body held whole (as a string or a Buffer) would show; the stream keeps far less.
    expect(bytes).toBeGreaterThan(30_000_000);
    expect(peak).toBeLessThan(bytes * 0.9);
  }, 180_000);
});

/**
 * What `longhaul run` tags a run with (pipeline, source account fingerprint, data range) and the visibility
 * query `longhaul list` builds from its filters, with the errors bad filters get.
 */
import { describe, expect, it } from 'vitest';
import { rangeOf, runAttributes } from '../../src/cli/attributes';
import { accountOf } from '../../src/node/account';
import { listQuery } from '../../src/cli/inspect';
import { parseConfig } from '../../src/config';
import { PIPELINES } from '../../src/pipelines';
import { fingerprint } from '../../src/node/fingerprint';

const config = parseConfig({
  DATORAMA_TOKEN: 'dato-secret',
  YOUTUBE_API_KEYS: 'k2,k1',
  TITELIVE_USERNAME: 'someone',
  DM_ACCOUNT: 'partner-7',
});
const parsed = (name: keyof typeof PIPELINES, raw: unknown) => PIPELINES[name].input.parse(raw);

describe('run attributes', () => {
  it('the account is a fingerprint of the credentials, never the secret', () => {
    expect(accountOf(PIPELINES['datorama-rerun-all'], config)).toBe(fingerprint('dato-secret'));
    expect(accountOf(PIPELINES['youtube-enrich'], config)).toBe(fingerprint('k1,k2'));
    expect(accountOf(PIPELINES['youtube-watch'], parseConfig({ YOUTUBE_API_KEYS: 'k1,k2' }))).toBe(
      fingerprint('k1,k2'),
    );
    expect(accountOf(PIPELINES.titelive, config)).toBe(fingerprint('someone'));
    expect(accountOf(PIPELINES['dailymotion-report'], config)).toBe('partner-7');
    // The rule the report semaphore counts on too (the dailymotionAccount activity): DM_ACCOUNT, else a fingerprint.
    expect(accountOf(PIPELINES['dailymotion-report'], parseConfig({ DM_CLIENT_API: 'k' }))).toBe(fingerprint('k'));
    expect(accountOf(PIPELINES['dailymotion-report'], parseConfig({ DM_CLIENT_API: 'k', DM_ACCOUNT: 'acme' }))).toBe(
      'acme',
    );
    expect(accountOf(PIPELINES.selftest, config)).toBeUndefined();
    expect(accountOf(PIPELINES['datorama-collect'], parseConfig({}))).toBeUndefined();
  });

  it('the range: the input dates, the widest of per-stream ranges, open ends left open', () => {
    expect(
      rangeOf(
        PIPELINES['datorama-process'],
        parsed('datorama-process', {
          streams: [1],
          start: '2026-02-01',
          end: '2026-02-10',
          ranges: [{ stream: 2, start: '2026-01-15', end: '2026-01-20' }],
        }),
      ),
    ).toEqual({ start: '2026-01-15', end: '2026-02-10' });
    expect(rangeOf(PIPELINES.titelive, parsed('titelive', { category: 'LIVRE', incremental: true }))).toEqual({
      start: undefined,
      end: undefined,
    });
    expect(rangeOf(PIPELINES['datorama-rerun-all'], { streams: [1] })).toEqual({});
  });

  it('typed attributes: the dates as whole days', () => {
    const pairs = runAttributes(
      PIPELINES['datorama-process'],
      parsed('datorama-process', { streams: [1], start: '2026-02-01', end: '2026-02-10' }),
      config,
    );
    expect(pairs.map((p) => [p.key.name, p.value instanceof Date ? p.value.toISOString() : p.value])).toEqual([
      ['LonghaulPipeline', 'datorama-process'],
      ['LonghaulAccount', fingerprint('dato-secret')],
      ['LonghaulRangeStart', '2026-02-01T00:00:00.000Z'],
      ['LonghaulRangeEnd', '2026-02-10T23:59:59.999Z'],
    ]);
    expect(runAttributes(PIPELINES.selftest, { sleep: 0, label: 'x' }).map((p) => p.key.name)).toEqual([
      'LonghaulPipeline',
    ]);
    // Relative days (a schedule's input) are not tagged by the client: the run tags its resolved range.
    const relative = parsed('dailymotion-report', {
      metrics: ['VIEWS'],
      dimensions: ['DAY'],
      startDate: 'today-2',
      endDate: 'yesterday',
    });
    expect(runAttributes(PIPELINES['dailymotion-report'], relative).map((p) => p.key.name)).toEqual([
      'LonghaulPipeline',
    ]);
  });
});

describe('longhaul list query', () => {
  it('combines the filters; a range filter keeps the runs whose range overlaps it', () => {
    expect(listQuery({})).toBeUndefined();
    expect(listQuery({ pipeline: 'titelive', state: 'waiting', account: 'fp-0123456789' })).toBe(
      `LonghaulPipeline = 'titelive' AND LonghaulState = 'waiting' AND LonghaulAccount = 'fp-0123456789'`,
    );
    expect(listQuery({ from: '2026-01-01', to: '2026-01-31' })).toBe(
      `LonghaulRangeEnd >= '2026-01-01T00:00:00Z' AND LonghaulRangeStart <= '2026-01-31T23:59:59.999Z'`,
    );
    expect(listQuery({ account: "it's" })).toBe(`LonghaulAccount = 'it\\'s'`);
  });

  it('refuses bad filters with a clear message', () => {
    expect(() => listQuery({ pipeline: 'nope' })).toThrow(/Unknown pipeline "nope" \(known: /);
    expect(() => listQuery({ state: 'sleeping' })).toThrow(/Unknown state "sleeping"/);
    expect(() => listQuery({ from: '2026-13-01' })).toThrow('--from "2026-13-01": expected a date as YYYY-MM-DD');
    expect(() => listQuery({ from: '2026-02-30' })).toThrow('--from "2026-02-30": expected a date as YYYY-MM-DD');
    expect(() => listQuery({ to: 'yesterday' })).toThrow('--to "yesterday": expected a date as YYYY-MM-DD');
    expect(() => listQuery({ from: '2026-02-01', to: '2026-01-01' })).toThrow(
      '--from 2026-02-01 is after --to 2026-01-01',
    );
    expect(() => listQuery({ account: ' ' })).toThrow(/--account: give the fingerprint/);
  });
});

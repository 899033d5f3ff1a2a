import { describe, expect, it } from 'vitest';
import {
  DEFAULT_PAGE_SIZE,
  LIST_PARAMETERS,
  ParamError,
  parseIsoTime,
  parseListParams,
  parseVideoId,
} from '../../src/api/params';
import { encodeVideoCursor } from '../../src/sinks/videos-store';

const parse = (qs: string) => parseListParams(new URLSearchParams(qs));

/** The ParamError a query string gives (fails the test when it parses). */
function refused(qs: string): ParamError {
  try {
    parse(qs);
  } catch (e) {
    expect(e).toBeInstanceOf(ParamError);
    return e as ParamError;
  }
  throw new Error(`${qs} was accepted`);
}

const cursor = (ordering: '-publishedAt' | 'title' = '-publishedAt') =>
  encodeVideoCursor({ ordering, key: '2024-01-01T00:00:00.000Z', videoId: 'abc', direction: 'next', filters: 'x' });

describe('GET /api/videos parameters', () => {
  it('defaults: first page of 20, newest first, cursor links', () => {
    expect(parse('')).toEqual({ pageSize: DEFAULT_PAGE_SIZE, ordering: '-publishedAt', paging: 'cursor' });
  });

  it('accepts every parameter and normalizes times to ISO UTC', () => {
    expect(
      parse(
        'page=3&pageSize=100&search=%20cricket%20final%20&ordering=title&publishedAfter=2024-05-01&publishedBefore=2024-05-31T10:00:00%2B02:00&query=cricket',
      ),
    ).toEqual({
      page: 3,
      pageSize: 100,
      search: 'cricket final',
      ordering: 'title',
      publishedAfter: '2024-05-01T00:00:00.000Z',
      publishedBefore: '2024-05-31T08:00:00.000Z',
      query: 'cricket',
      paging: 'page',
    });
    expect(parse(`cursor=${cursor()}`)).toMatchObject({ cursor: cursor(), paging: 'cursor' });
    expect(parse(`cursor=${cursor('title')}&ordering=title`)).toMatchObject({ cursor: cursor('title') });
  });

  it('a date alone: start of the UTC day after, end of the UTC day before (both inclusive)', () => {
    expect(parse('publishedAfter=2024-02-29&publishedBefore=2024-02-29')).toMatchObject({
      publishedAfter: '2024-02-29T00:00:00.000Z',
      publishedBefore: '2024-02-29T23:59:59.999Z',
    });
  });

  it('empty search and query mean no filter', () => {
    expect(parse('search=&query=%20')).toEqual(parse(''));
  });

  const cases: [string, string, RegExp][] = [
    ['foo=1', 'foo', /unknown parameter/],
    ['PAGE=1', 'PAGE', /unknown parameter/],
    ['page_size=10', 'page_size', /unknown parameter/],
    ['page=1&page=2', 'page', /more than once/],
    ['search=a&search=b', 'search', /more than once/],
    ['page=0', 'page', /from 1 to/],
    ['page=-1', 'page', /from 1 to/],
    ['page=1.5', 'page', /whole number/],
    ['page=abc', 'page', /whole number/],
    ['page=', 'page', /whole number/],
    ['page=1e3', 'page', /whole number/],
    ['page=10000001', 'page', /from 1 to 10000000/],
    ['page=99999999999999999999', 'page', /whole number/],
    ['pageSize=0', 'pageSize', /from 1 to 100/],
    ['pageSize=101', 'pageSize', /from 1 to 100/],
    ['pageSize=%2010', 'pageSize', /whole number/],
    ['pageSize=0x10', 'pageSize', /whole number/],
    ['ordering=published_at', 'ordering', /one of/],
    ['ordering=-PublishedAt', 'ordering', /one of/],
    ['ordering=', 'ordering', /one of/],
    ['ordering=title;DROP TABLE videos', 'ordering', /one of/],
    ['publishedAfter=yesterday', 'publishedAfter', /ISO-8601/],
    ['publishedAfter=2024-02-30', 'publishedAfter', /no such date/],
    ['publishedAfter=2023-02-29', 'publishedAfter', /no such date/],
    ['publishedAfter=2024-13-01', 'publishedAfter', /no such date/],
    ['publishedAfter=2024-05-01T10:00:00', 'publishedAfter', /time zone/],
    ['publishedAfter=2024-05-01T25:00:00Z', 'publishedAfter', /no such time/],
    ['publishedAfter=2024-05-01T10:61:00Z', 'publishedAfter', /no such time/],
    ['publishedAfter=2024-05-01T10:00:00%2B25:00', 'publishedAfter', /time zone/],
    ['publishedAfter=1714557600', 'publishedAfter', /ISO-8601/],
    ['publishedAfter=', 'publishedAfter', /ISO-8601/],
    ['publishedBefore=2024-5-1', 'publishedBefore', /ISO-8601/],
    ["publishedBefore=2024-05-01' OR '1'='1", 'publishedBefore', /ISO-8601/],
    ['publishedAfter=2024-05-02&publishedBefore=2024-05-01', 'publishedBefore', /earlier than publishedAfter/],
    ['publishedAfter=2024-05-01T10:00:01Z&publishedBefore=2024-05-01T10:00:00Z', 'publishedBefore', /earlier/],
    [`search=${'x'.repeat(201)}`, 'search', /at most 200/],
    [`query=${'x'.repeat(201)}`, 'query', /at most 200/],
    ['search=a%00b', 'search', /control characters/],
    ['cursor=', 'cursor', /invalid cursor/],
    ['cursor=not a cursor', 'cursor', /invalid cursor/],
    ['cursor=eyJhIjoxfQ', 'cursor', /invalid cursor/],
    [`cursor=${cursor()}&page=2`, 'cursor', /not both/],
    [`cursor=${cursor()}&ordering=title`, 'cursor', /ordering=-publishedAt/],
    [
      `cursor=${Buffer.from(JSON.stringify(['-publishedAt', 'not a time', 'x', 'n', 'f'])).toString('base64url')}`,
      'cursor',
      /ISO-8601/,
    ],
  ];
  it.each(cases)('400 for %s (names %s)', (qs, parameter, message) => {
    const e = refused(qs);
    expect(e.parameter).toBe(parameter);
    expect(e.message).toMatch(message);
  });

  it('knows exactly the documented parameters', () => {
    expect([...LIST_PARAMETERS].sort()).toEqual(
      ['cursor', 'ordering', 'page', 'pageSize', 'publishedAfter', 'publishedBefore', 'query', 'search'].sort(),
    );
  });
});

describe('times and ids', () => {
  it('parseIsoTime keeps the instant of offsets and fractions', () => {
    expect(parseIsoTime('t', '2024-05-01T10:00:00.123456Z')).toBe('2024-05-01T10:00:00.123Z');
    expect(parseIsoTime('t', '2024-05-01T10:00-05:30')).toBe('2024-05-01T15:30:00.000Z');
  });

  it('video ids: YouTube characters, 1 to 64', () => {
    expect(parseVideoId('dQw4w9WgXcQ')).toBe('dQw4w9WgXcQ');
    for (const bad of ['', 'a b', "x' OR '1'='1", 'a/b', 'é', 'x'.repeat(65), '../etc']) {
      expect(() => parseVideoId(bad)).toThrow(ParamError);
    }
  });
});

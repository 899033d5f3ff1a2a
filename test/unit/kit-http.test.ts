/**
 * The kit's one error taxonomy and its one conversion to Temporal failures, on every connector's errors:
 * the failure types and retry decisions the workflows' retry policies match on (they were four separate
 * conversions before; this table is what each of them did).
 */
import { ApplicationFailure } from '@temporalio/common';
import { describe, expect, it } from 'vitest';
import { DailymotionApiError, ReportLinkGoneError } from '../../src/pipelines/dailymotion/connector/errors';
import {
  DatoramaAuthError,
  DatoramaRateLimitedError,
  DatoramaTransientError,
} from '../../src/pipelines/datorama/connector/errors';
import {
  TiteliveAuthError,
  TiteliveError,
  TiteliveRateLimitedError,
  TiteliveTransientError,
} from '../../src/pipelines/titelive/connector/errors';
import { YoutubeError } from '../../src/pipelines/youtube/connector/errors';
import { toFailure } from '../../src/pipelines/dailymotion/activities/report';
import { ApiError, parseRetryAfter, toActivityFailure } from '../../src/kit/activity/http';

const failure = (err: unknown) => failureOf(toActivityFailure(err));
const failureOf = (f: unknown) => {
  expect(f).toBeInstanceOf(ApplicationFailure);
  const a = f as ApplicationFailure;
  return { type: a.type, nonRetryable: a.nonRetryable, delay: a.nextRetryDelay };
};

describe('kit http errors', () => {
  it('parses Retry-After as seconds or an HTTP date, and ignores what is not one', () => {
    expect(parseRetryAfter('3')).toBe(3000);
    expect(parseRetryAfter(' 1.5 ')).toBe(1500);
    const now = Date.parse('2026-12-04T10:00:00Z');
    expect(parseRetryAfter('Fri, 04 Dec 2026 10:00:30 GMT', now)).toBe(30_000);
    expect(parseRetryAfter('Fri, 04 Dec 2026 09:00:00 GMT', now)).toBe(0);
    for (const bad of [undefined, '', 'soon', 12, ['1']]) expect(parseRetryAfter(bad)).toBeUndefined();
  });

  it('every connector error converts to the failure type and retry decision its workflows expect', () => {
    const cases: [unknown, { type: string; nonRetryable: boolean; delay?: number }][] = [
      [new DailymotionApiError('auth', 'no', 401), { type: 'Dailymotion_auth', nonRetryable: true }],
      [
        new DailymotionApiError('invalid_request', 'bad', 200),
        { type: 'Dailymotion_invalid_request', nonRetryable: true },
      ],
      [
        new DailymotionApiError('concurrency_limit', 'busy', 200),
        { type: 'Dailymotion_concurrency_limit', nonRetryable: false, delay: 60_000 },
      ],
      [
        new DailymotionApiError('rate_limited', 'slow', 429),
        { type: 'Dailymotion_rate_limited', nonRetryable: false, delay: 5_000 },
      ],
      [
        new DailymotionApiError('rate_limited', 'slow', 429, 2_000),
        { type: 'Dailymotion_rate_limited', nonRetryable: false, delay: 2_000 },
      ],
      [new DailymotionApiError('transient', '503', 503), { type: 'Dailymotion_transient', nonRetryable: false }],
      [
        new DailymotionApiError('not_found', 'no such report', 200),
        { type: 'Dailymotion_not_found', nonRetryable: true },
      ],
      [new ReportLinkGoneError('gone', 410), { type: 'ReportLinkGone', nonRetryable: true }],
      [
        new YoutubeError('rateLimited', 'slow', 429, 'rateLimitExceeded', 4_000),
        { type: 'YoutubeRateLimited', nonRetryable: false, delay: 4_000 },
      ],
      [new YoutubeError('transient', '500', 500), { type: 'YoutubeTransient', nonRetryable: false }],
      [new YoutubeError('invalidRequest', 'bad', 400), { type: 'YoutubeInvalidRequest', nonRetryable: true }],
      [new YoutubeError('quotaExceeded', 'spent', 403), { type: 'YoutubeInvalidRequest', nonRetryable: true }],
      [new TiteliveAuthError('refused', 401), { type: 'TiteliveAuthError', nonRetryable: true }],
      [new TiteliveError('HTTP 404', 404), { type: 'TiteliveError', nonRetryable: true }],
      [new TiteliveTransientError('HTTP 503', 503), { type: 'TiteliveTransientError', nonRetryable: false }],
      [
        new TiteliveRateLimitedError('429', 3_000),
        { type: 'TiteliveRateLimitedError', nonRetryable: false, delay: 3_000 },
      ],
      [new DatoramaAuthError('401', 401), { type: 'DatoramaAuth', nonRetryable: true }],
      [new DatoramaTransientError('502', 502, true), { type: 'DatoramaTransientError', nonRetryable: false }],
    ];
    for (const [err, want] of cases) expect(failure(err), String(err)).toEqual({ delay: undefined, ...want });
  });

  it('puts every connector error in one taxonomy', () => {
    expect(new DailymotionApiError('concurrency_limit', 'busy', 200).category).toBe('rate_limited');
    expect(new YoutubeError('quotaExceeded', 'spent', 403).category).toBe('quota');
    expect(new YoutubeError('keyInvalid', 'bad key', 400).category).toBe('auth');
    expect(new TiteliveAuthError('refused').category).toBe('auth');
    expect(new TiteliveRateLimitedError('429').category).toBe('rate_limited');
    const day = new DatoramaRateLimitedError('429', Date.now() + 60_000, 'day');
    expect([day.category, day.retryAfterMs! > 50_000]).toEqual(['quota', true]);
    expect(new DatoramaTransientError('502', 502, true).ambiguous).toBe(true);
    for (const e of [
      new DailymotionApiError('auth', 'x', 401),
      new YoutubeError('transient', 'x'),
      new TiteliveError('x'),
    ])
      expect(e).toBeInstanceOf(ApiError);
  });

  it("Dailymotion's activities retry a report not visible yet (its own decision on top of the kit's)", () => {
    expect(failureOf(toFailure(new DailymotionApiError('not_found', 'no such report', 200)))).toEqual({
      type: 'Dailymotion_not_found',
      nonRetryable: false,
      delay: undefined,
    });
    expect(failureOf(toFailure(new ReportLinkGoneError('gone', 410))).nonRetryable).toBe(true);
    expect(failureOf(toFailure(new DailymotionApiError('auth', 'no', 401))).type).toBe('Dailymotion_auth');
  });

  it('leaves other errors as they are', () => {
    const plain = new Error('disk full');
    expect(toActivityFailure(plain)).toBe(plain);
  });
});

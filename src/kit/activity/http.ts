/**
 * One error taxonomy for every API longhaul talks to, one Retry-After parser, and one conversion of an API
 * error into a Temporal failure. A connector's errors extend `ApiError` (keeping their own class, and the
 * API's own detail in their fields); activities throw `toActivityFailure(err)`.
 *
 * Categories:
 * - `auth` — credentials missing, refused or expired beyond refresh: no retry helps;
 * - `rate_limited` — slow down: retried after the API's Retry-After (or the error's default delay);
 * - `quota` — a budget is spent until a reset (the caller usually waits for it, durably);
 * - `transient` — 5xx, network, timeouts, malformed or truncated bodies: retried with backoff;
 * - `refused` — a request the API will keep refusing (4xx, invalid input): no retry;
 * - `not_found` — the thing asked for is not there (an API may say whether a retry can find it).
 *
 * `ambiguous` marks a failure after which the request may still have been applied (sent, then no answer or
 * a 5xx): a caller that must not apply a change twice checks before sending it again.
 */
import { ApplicationFailure } from '@temporalio/common';

export type ApiErrorCategory = 'auth' | 'rate_limited' | 'quota' | 'transient' | 'refused' | 'not_found';

const RETRYABLE: ReadonlySet<ApiErrorCategory> = new Set(['rate_limited', 'quota', 'transient']);

export interface ApiErrorOptions {
  /** HTTP status (absent when no answer arrived). */
  status?: number;
  /** From a Retry-After header (or the API's reset time), when it gave one. */
  retryAfterMs?: number;
  /** The request may have been applied although it failed. */
  ambiguous?: boolean;
  /** Overrides whether a retry can help (default: by category — rate_limited, quota, transient). */
  retryable?: boolean;
}

export class ApiError extends Error {
  override name = 'ApiError';
  readonly status?: number;
  readonly retryAfterMs?: number;
  readonly ambiguous: boolean;
  private readonly retryOverride?: boolean;

  constructor(
    readonly category: ApiErrorCategory,
    message: string,
    opts: ApiErrorOptions = {},
  ) {
    super(message);
    this.status = opts.status;
    this.retryAfterMs = opts.retryAfterMs;
    this.ambiguous = opts.ambiguous ?? false;
    this.retryOverride = opts.retryable;
  }

  /** Whether another attempt can succeed. */
  get retryable(): boolean {
    return this.retryOverride ?? RETRYABLE.has(this.category);
  }

  /** The Temporal failure type (what retry policies and workflows match on): the class name by default. */
  get failureType(): string {
    return this.name;
  }

  /** The wait before the next attempt when the API gave none (undefined: the retry policy's backoff). */
  get defaultRetryDelayMs(): number | undefined {
    return undefined;
  }
}

/** Retry-After as milliseconds: delta-seconds or an HTTP date (relative to `now`); undefined if absent or bad. */
export function parseRetryAfter(value: unknown, now = Date.now()): number | undefined {
  if (typeof value !== 'string' || value.trim() === '') return undefined;
  const v = value.trim();
  if (/^\d+(\.\d+)?$/.test(v)) return Math.round(Number(v) * 1000);
  const at = Date.parse(v);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}

/**
 * An activity's error as Temporal should see it: an `ApiError` becomes a non-retryable failure, or a
 * retryable one whose next attempt waits the API's Retry-After (else the error's default delay, else the
 * retry policy's backoff); any other error is returned as it is.
 */
export function toActivityFailure(err: unknown): unknown {
  if (!(err instanceof ApiError)) return err;
  if (!err.retryable) return ApplicationFailure.nonRetryable(err.message, err.failureType);
  const delay = err.retryAfterMs ?? err.defaultRetryDelayMs;
  return ApplicationFailure.create({
    message: err.message,
    type: err.failureType,
    ...(delay !== undefined ? { nextRetryDelay: delay } : {}),
  });
}

/**
 * Typed YouTube Data API failures, from the error body's `reason` (and `details[].reason`): quota
 * exceeded (the key's project is spent until the Pacific-midnight reset), key invalid (the key leaves the
 * pool), rate limited and transient (retry with backoff), invalid request (a bug or bad input: no retry).
 */
import { ApiError, type ApiErrorCategory } from '../../../kit/activity/http';

export type YoutubeErrorKind = 'quotaExceeded' | 'keyInvalid' | 'rateLimited' | 'transient' | 'invalidRequest';

const CATEGORY: Record<YoutubeErrorKind, ApiErrorCategory> = {
  quotaExceeded: 'quota',
  keyInvalid: 'auth',
  rateLimited: 'rate_limited',
  transient: 'transient',
  invalidRequest: 'refused',
};

export class YoutubeError extends ApiError {
  override name = 'YoutubeError';
  constructor(
    readonly kind: YoutubeErrorKind,
    message: string,
    status?: number,
    /** The API's `errors[0].reason` (or `details[].reason`), when it sent one. */
    readonly reason?: string,
    /** From a Retry-After header (rate limiting). */
    retryAfterMs?: number,
  ) {
    // A spent quota is not retried as such: the caller moves to another key or waits for the reset.
    super(CATEGORY[kind], message, { status, retryAfterMs, retryable: kind === 'rateLimited' || kind === 'transient' });
  }

  override get failureType(): string {
    return this.kind === 'rateLimited'
      ? 'YoutubeRateLimited'
      : this.kind === 'transient'
        ? 'YoutubeTransient'
        : 'YoutubeInvalidRequest';
  }
}

interface ErrorBody {
  error?: {
    code?: number;
    message?: string;
    status?: string;
    errors?: { reason?: string; domain?: string; message?: string }[];
    details?: { reason?: string }[];
  };
}

const QUOTA = new Set(['quotaExceeded', 'dailyLimitExceeded', 'dailyLimitExceededUnreg']);
const KEY = new Set([
  'keyInvalid',
  'API_KEY_INVALID',
  'keyExpired',
  'API_KEY_EXPIRED',
  'ipRefererBlocked',
  'forbidden',
]);
const RATE = new Set(['rateLimitExceeded', 'userRateLimitExceeded', 'RATE_LIMIT_EXCEEDED']);
const TRANSIENT = new Set(['backendError', 'internalError']);

/** Classifies an HTTP error answer (status + parsed body) into a typed error. */
export function classifyError(status: number, body: unknown, retryAfterMs?: number): YoutubeError {
  const e = (body && typeof body === 'object' ? (body as ErrorBody).error : undefined) ?? {};
  const reasons = [...(e.errors ?? []).map((x) => x.reason), ...(e.details ?? []).map((x) => x.reason)].filter(
    (r): r is string => typeof r === 'string',
  );
  const reason = reasons.find((r) => QUOTA.has(r) || KEY.has(r) || RATE.has(r) || TRANSIENT.has(r)) ?? reasons[0];
  const msg = `YouTube API ${status}${reason ? ` ${reason}` : ''}: ${e.message ?? 'no message'}`;
  if (reason && QUOTA.has(reason)) return new YoutubeError('quotaExceeded', msg, status, reason);
  if ((reason && KEY.has(reason)) || /API key not valid/i.test(e.message ?? ''))
    return new YoutubeError('keyInvalid', msg, status, reason);
  if (status === 429 || (reason && RATE.has(reason)))
    return new YoutubeError('rateLimited', msg, status, reason, retryAfterMs);
  if (status >= 500 || (reason && TRANSIENT.has(reason))) return new YoutubeError('transient', msg, status, reason);
  return new YoutubeError('invalidRequest', msg, status, reason);
}

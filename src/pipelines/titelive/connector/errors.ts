/**
 * Typed Titelive failures on the kit's taxonomy (src/kit/activity/http.ts): transient ones (429, 5xx,
 * network, malformed bodies) are retried with backoff; the others (bad credentials, a 4xx the API will keep
 * answering) fail at once. Their Temporal failure type is the class name.
 */
import { ApiError, type ApiErrorCategory } from '../../../kit/activity/http';

export class TiteliveError extends ApiError {
  override name = 'TiteliveError';
  constructor(
    message: string,
    status?: number,
    transient = false,
    retryAfterMs?: number,
    category: ApiErrorCategory = status === 429 ? 'rate_limited' : transient ? 'transient' : 'refused',
  ) {
    super(category, message, { status, retryAfterMs });
  }

  /** Worth trying again (5xx, 429, network, malformed bodies). */
  get transient(): boolean {
    return this.retryable;
  }
}

/** 5xx, network errors, timeouts, truncated or malformed bodies: worth trying again. */
export class TiteliveTransientError extends TiteliveError {
  override name = 'TiteliveTransientError';
  constructor(message: string, status?: number, retryAfterMs?: number) {
    super(message, status, true, retryAfterMs);
  }
}

/** 429: the API wants us to slow down (it sends no rate-limit headers; a Retry-After is honoured if present). */
export class TiteliveRateLimitedError extends TiteliveTransientError {
  override name = 'TiteliveRateLimitedError';
  constructor(message: string, retryAfterMs?: number) {
    super(message, 429, retryAfterMs);
  }
}

/** The login endpoint refused the credentials (or they are missing): no retry will fix it. */
export class TiteliveAuthError extends TiteliveError {
  override name = 'TiteliveAuthError';
  constructor(message: string, status?: number) {
    super(message, status, false, undefined, 'auth');
  }
}

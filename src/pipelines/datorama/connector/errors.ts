/**
 * Typed Datorama failures on the kit's taxonomy (src/kit/activity/http.ts). A 429 carries the reset (epoch
 * ms) the headers give; `ambiguous` marks the failures after which the request may still have been applied
 * (network error once sent, 5xx), so the caller checks before submitting again.
 */
import { ApiError, type ApiErrorCategory } from '../../../kit/activity/http';

export class DatoramaError extends ApiError {
  override name = 'DatoramaError';
  constructor(
    message: string,
    status?: number,
    ambiguous = false,
    category: ApiErrorCategory = 'refused',
    retryAfterMs?: number,
  ) {
    super(category, message, { status, ambiguous, retryAfterMs });
  }
}

/** 401: the token is missing or refused. */
export class DatoramaAuthError extends DatoramaError {
  override name = 'DatoramaAuthError';
  constructor(message: string, status?: number) {
    super(message, status, false, 'auth');
  }
  override get failureType(): string {
    return 'DatoramaAuth';
  }
}

/** 5xx, network errors, malformed bodies. */
export class DatoramaTransientError extends DatoramaError {
  override name = 'DatoramaTransientError';
  constructor(message: string, status?: number, ambiguous = false) {
    super(message, status, ambiguous, 'transient');
  }
}

/** 429: over the per-minute limit (`rate_limited`) or the daily quota (`quota`); `resetAt` is when to try again. */
export class DatoramaRateLimitedError extends DatoramaError {
  override name = 'DatoramaRateLimitedError';
  constructor(
    message: string,
    /** Epoch ms. */
    readonly resetAt: number,
    readonly scope: 'minute' | 'day',
  ) {
    super(message, 429, false, scope === 'day' ? 'quota' : 'rate_limited', Math.max(0, resetAt - Date.now()));
  }
}

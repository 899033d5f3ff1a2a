/**
 * Typed Datorama failures. A 429 carries the reset (epoch ms) the headers give; `ambiguous` marks the
 * failures after which the request may still have been applied (network error once sent, 5xx), so the
 * caller checks before submitting again.
 */
export class DatoramaError extends Error {
  override name = 'DatoramaError';
  constructor(
    message: string,
    readonly status?: number,
    readonly ambiguous = false,
  ) {
    super(message);
  }
}

/** 401: the token is missing or refused. */
export class DatoramaAuthError extends DatoramaError {
  override name = 'DatoramaAuthError';
}

/** 5xx, network errors, malformed bodies. */
export class DatoramaTransientError extends DatoramaError {
  override name = 'DatoramaTransientError';
}

/** 429: over the per-minute limit or the daily quota; `resetAt` is when to try again (epoch ms). */
export class DatoramaRateLimitedError extends DatoramaError {
  override name = 'DatoramaRateLimitedError';
  constructor(
    message: string,
    readonly resetAt: number,
    readonly scope: 'minute' | 'day',
  ) {
    super(message, 429);
  }
}

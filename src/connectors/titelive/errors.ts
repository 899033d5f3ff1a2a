/**
 * Typed Titelive failures. Activities turn them into Temporal failures: transient ones (429, 5xx,
 * network, malformed bodies) are retried with backoff; the others (bad credentials, a 4xx the API
 * will keep answering) fail at once.
 */
export class TiteliveError extends Error {
  override name = 'TiteliveError';
  constructor(
    message: string,
    readonly status?: number,
    readonly transient = false,
  ) {
    super(message);
  }
}

/** 5xx, network errors, timeouts, truncated or malformed bodies: worth trying again. */
export class TiteliveTransientError extends TiteliveError {
  override name = 'TiteliveTransientError';
  constructor(message: string, status?: number) {
    super(message, status, true);
  }
}

/** 429: the API wants us to slow down (it sends no rate-limit headers; a Retry-After is honoured if present). */
export class TiteliveRateLimitedError extends TiteliveTransientError {
  override name = 'TiteliveRateLimitedError';
  constructor(
    message: string,
    readonly retryAfterMs?: number,
  ) {
    super(message, 429);
  }
}

/** The login endpoint refused the credentials (or they are missing): no retry will fix it. */
export class TiteliveAuthError extends TiteliveError {
  override name = 'TiteliveAuthError';
}

/**
 * Typed Dailymotion failures on the kit's taxonomy (src/kit/activity/http.ts): `kind` says what happened
 * in Dailymotion's terms; a retry can help for rate limits, the 2-reports limit and transient faults. Messages come from the
 * API's own error text (GraphQL `errors[].message`, OAuth `error`/`error_description`) and never carry a
 * token, a secret or a signed link's query string.
 */

import { ApiError, type ApiErrorCategory } from '../../../kit/activity/http';

export type DailymotionErrorKind =
  'rate_limited' | 'concurrency_limit' | 'invalid_request' | 'auth' | 'transient' | 'not_found';

const CATEGORY: Record<DailymotionErrorKind, ApiErrorCategory> = {
  rate_limited: 'rate_limited',
  concurrency_limit: 'rate_limited', // 2 reports generating already: wait for a slot
  invalid_request: 'refused',
  auth: 'auth',
  transient: 'transient',
  not_found: 'not_found',
};

export class DailymotionApiError extends ApiError {
  override name = 'DailymotionApiError';
  constructor(
    readonly kind: DailymotionErrorKind,
    message: string,
    /** HTTP status (0 when no response arrived or the request was refused before sending). */
    status: number,
    /** From a Retry-After header, when the API sent one. */
    retryAfterMs?: number,
  ) {
    super(CATEGORY[kind], message, { status, retryAfterMs });
  }

  override get failureType(): string {
    return `Dailymotion_${this.kind}`;
  }

  /** Without a Retry-After: a minute for a report slot, 5 s for a rate limit, else the policy's backoff. */
  override get defaultRetryDelayMs(): number | undefined {
    return this.kind === 'concurrency_limit' ? 60_000 : this.kind === 'rate_limited' ? 5_000 : undefined;
  }
}

/** A report file link answered 403/404/410: the file is gone (expired report) or the link is wrong. */
export class ReportLinkGoneError extends DailymotionApiError {
  override name = 'ReportLinkGoneError';
  constructor(message: string, status: number) {
    super('not_found', message, status);
  }
  override get failureType(): string {
    return 'ReportLinkGone';
  }
}

const PATTERNS: [DailymotionErrorKind | 'token', RegExp][] = [
  [
    'concurrency_limit',
    /concurren|at the same time|simultaneous|too many reports|more than \d+ reports?|already (?:\d+ )?reports?/i,
  ],
  ['rate_limited', /rate.?limit|too many requests|throttl|quota/i],
  ['token', /(?:expired|invalid)[ _]token|token (?:has )?expired/i],
  ['auth', /unauthori[sz]ed|unauthenticated|not authenticated|forbidden|permission|access denied|scope/i],
  ['not_found', /not found|does not exist|no such report|unknown report/i],
  ['transient', /internal (?:server )?error|timed? ?out|unavailable|try again|temporar/i],
];

const CODES: Record<string, DailymotionErrorKind | 'token'> = {
  UNAUTHENTICATED: 'auth',
  FORBIDDEN: 'auth',
  BAD_USER_INPUT: 'invalid_request',
  GRAPHQL_VALIDATION_FAILED: 'invalid_request',
  GRAPHQL_PARSE_FAILED: 'invalid_request',
  INTERNAL_SERVER_ERROR: 'transient',
  NOT_FOUND: 'not_found',
};

/**
 * The kind of a GraphQL error answered with HTTP 200 (`extensions.code` when present, else the
 * message). `token` means the access token expired or is invalid: refresh it and retry once.
 */
export function classifyGraphqlError(message: string, code?: string): DailymotionErrorKind | 'token' {
  if (code && CODES[code]) return CODES[code];
  for (const [kind, re] of PATTERNS) if (re.test(message)) return kind;
  return 'invalid_request';
}

/** Replaces every occurrence of the given secrets in a text by `***`. */
export function redact(text: string, secrets: readonly (string | undefined)[]): string {
  let out = text;
  for (const s of secrets) if (s && s.length >= 4) out = out.split(s).join('***');
  return out;
}

/** A URL without its query string or fragment (signed links carry credentials there). */
export function safeUrl(link: string): string {
  try {
    const u = new URL(link);
    return `${u.origin}${u.pathname}`;
  } catch {
    return '<unparseable link>';
  }
}

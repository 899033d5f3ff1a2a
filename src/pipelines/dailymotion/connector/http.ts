/**
 * HTTP plumbing shared by the token manager and the client: sending without ever letting an axios
 * error (which carries the request config — form body with the secret, Authorization header) escape,
 * and mapping non-2xx answers to typed errors with redacted messages.
 */
import type { AxiosInstance, AxiosRequestConfig, AxiosResponse } from 'axios';
import { parseRetryAfter } from '../../../kit/activity/http';
import { DailymotionApiError, redact } from './errors';

/** Sends a request; a network failure or timeout becomes a transient DailymotionApiError. */
export async function send<T>(
  http: AxiosInstance,
  config: AxiosRequestConfig,
  what: string,
  secrets: () => readonly (string | undefined)[],
): Promise<AxiosResponse<T>> {
  try {
    return await http.request<T>(config);
  } catch (err) {
    const e = err as { code?: string; message?: string };
    const detail = [e.code, e.message].filter(Boolean).join(' ');
    throw new DailymotionApiError('transient', redact(`Dailymotion ${what}: network error ${detail}`, secrets()), 0);
  }
}

/** The body as text (responses are read as text so malformed JSON can be reported as such). */
export function bodyText(res: AxiosResponse): string {
  return typeof res.data === 'string' ? res.data : Buffer.isBuffer(res.data) ? res.data.toString('utf8') : '';
}

/** Parses JSON; a malformed body is a transient failure (a truncated or proxied answer). */
export function parseJson(res: AxiosResponse, what: string): unknown {
  try {
    return JSON.parse(bodyText(res));
  } catch {
    throw new DailymotionApiError(
      'transient',
      `Dailymotion ${what}: malformed JSON body (HTTP ${res.status}, ${bodyText(res).length} bytes)`,
      res.status,
    );
  }
}

/** A short, redacted summary of an error body for messages. */
export function bodySummary(res: AxiosResponse, secrets: readonly (string | undefined)[]): string {
  const text = bodyText(res).replace(/\s+/g, ' ').trim().slice(0, 300);
  return redact(text, secrets);
}

/** The typed error for an HTTP status outside 2xx (401/403 are handled by the callers first). */
export function statusError(res: AxiosResponse, what: string, detail: string): DailymotionApiError {
  const s = res.status;
  const retryAfterMs = parseRetryAfter(res.headers['retry-after']);
  const msg = `Dailymotion ${what}: HTTP ${s}${detail ? ` ${detail}` : ''}`;
  if (s === 429) return new DailymotionApiError('rate_limited', msg, s, retryAfterMs);
  if (s >= 500 || s === 408) return new DailymotionApiError('transient', msg, s, retryAfterMs);
  if (s === 401 || s === 403) return new DailymotionApiError('auth', msg, s);
  if (s === 404 || s === 410) return new DailymotionApiError('not_found', msg, s);
  return new DailymotionApiError('invalid_request', msg, s);
}

/**
 * Titelive / ePagine catalog client (axios + zod): login for a bearer token, cached and refreshed
 * before its ~5-minute lifetime ends and again on a 401 (the request is then retried), and paged
 * product search. 429 and 5xx answers, network errors and malformed bodies surface as typed transient
 * errors; the caller (an activity) decides how to retry.
 */
import axios, { type AxiosInstance, type AxiosResponse } from 'axios';
import { apiHttpClient } from '../../../kit/activity/http-client';
import type { Config } from '../../../config';
import { parseRetryAfter } from '../../../kit/activity/http';
import { TiteliveAuthError, TiteliveError, TiteliveRateLimitedError, TiteliveTransientError } from './errors';
import { loginResponseSchema, rawItemSchema, resultItems, searchEnvelopeSchema, type RawItem } from './schemas';

export type TiteliveBase = 'paper' | 'music';
export const CATEGORY_BASES = { LIVRE: 'paper', MUSIQUE_ENREGISTREE: 'music' } as const;

export interface SearchQuery {
  base: TiteliveBase;
  /** Inclusive bounds on the modification date, YYYY-MM-DD (sent as DD/MM/YYYY). */
  dateMin: string;
  dateMax?: string;
  /** Availability code (`dispo`), used to split a single day that still exceeds the result cap. */
  dispo?: number;
  /** 1-based. */
  page: number;
  perPage: number;
}

export interface SearchPage {
  /** Total matches the API reports for the query (not capped by paging). */
  nbreponses: number;
  items: RawItem[];
}

export interface TiteliveClientOptions {
  loginUrl: string;
  searchUrl: string;
  username?: string;
  password?: string;
  timeoutMs?: number;
  /** Age at which a cached token is replaced before use (clients use 4.5 min for a ~5 min lifetime). */
  refreshAfterMs?: number;
  /** Refreshes allowed per request after 401s. */
  maxAuthRetries?: number;
  now?: () => number;
}

/** YYYY-MM-DD → DD/MM/YYYY (the API's date format). */
export function toApiDate(iso: string): string {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(iso);
  if (!m) throw new TiteliveError(`Invalid date "${iso}" (expected YYYY-MM-DD)`);
  return `${m[3]}/${m[2]}/${m[1]}`;
}

export class TiteliveClient {
  private readonly http: AxiosInstance;
  private cached?: { token: string; obtainedAt: number };
  private pending?: Promise<string>;
  /** Logins performed (tests and logs). */
  logins = 0;

  constructor(private readonly opts: TiteliveClientOptions) {
    this.http = apiHttpClient({ timeoutMs: opts.timeoutMs ?? 45_000, maxSockets: 4 });
  }

  /** A valid token: the cached one unless it is old enough to be refreshed (one login at a time). */
  async token(force = false): Promise<string> {
    const now = (this.opts.now ?? Date.now)();
    const maxAge = this.opts.refreshAfterMs ?? 270_000;
    if (!force && this.cached && now - this.cached.obtainedAt < maxAge) return this.cached.token;
    this.pending ??= this.login().finally(() => (this.pending = undefined));
    return this.pending;
  }

  private async login(): Promise<string> {
    const { username, password, loginUrl } = this.opts;
    if (!username || !password) throw new TiteliveAuthError('TITELIVE_USERNAME and TITELIVE_PASSWORD must be set');
    const url = `${loginUrl.replace(/\/$/, '')}/login/${encodeURIComponent(username)}/token`;
    const res = await this.send(() =>
      this.http.post<string>(url, JSON.stringify({ password }), { headers: { 'content-type': 'application/json' } }),
    );
    if (res.status === 401 || res.status === 403 || res.status === 404)
      throw new TiteliveAuthError(`Titelive login refused (HTTP ${res.status})`, res.status);
    this.check(res, 'login');
    const parsed = loginResponseSchema.safeParse(this.json(res, 'login'));
    if (!parsed.success) throw new TiteliveTransientError('Titelive login: no token in the response');
    this.logins++;
    this.cached = { token: parsed.data.token, obtainedAt: (this.opts.now ?? Date.now)() };
    return parsed.data.token;
  }

  /**
   * One page of products modified in [dateMin, dateMax], **latest modification first**: a product modified
   * while a query is paged then moves towards page 1 (already read), so the pages still to read only shift
   * forward (a product read twice, de-duplicated by parse) — with oldest first it moved to the end and the
   * products behind it shifted back past the page boundary, one skipped per modification. Products leaving
   * the range still shift pages back: the extract activity sees `nbreponses` drop and rereads the query.
   */
  async search(q: SearchQuery, signal?: AbortSignal): Promise<SearchPage> {
    const params: Record<string, string> = {
      base: q.base,
      dateminm: toApiDate(q.dateMin),
      nombre: String(q.perPage),
      page: String(q.page),
      tri: 'datemodification',
      tri_ordre: 'desc',
    };
    if (q.dateMax) params.datemaxm = toApiDate(q.dateMax);
    if (q.dispo !== undefined) params.dispo = String(q.dispo);
    const url = `${this.opts.searchUrl.replace(/\/$/, '')}/search`;
    const res = await this.authorized((token) =>
      this.http.get<string>(url, { params, headers: { authorization: `Bearer ${token}` }, signal }),
    );
    this.check(res, 'search');
    const env = searchEnvelopeSchema.safeParse(this.json(res, 'search'));
    if (!env.success) throw new TiteliveTransientError(`Titelive search: unexpected envelope (${env.error.message})`);
    const items: RawItem[] = [];
    for (const it of resultItems(env.data.result)) {
      const item = rawItemSchema.safeParse(it);
      if (!item.success) throw new TiteliveTransientError('Titelive search: a result item has no id');
      items.push(item.data);
    }
    return { nbreponses: env.data.nbreponses ?? items.length, items };
  }

  /** Runs a request with the token; on 401, refreshes the token and retries (up to maxAuthRetries). */
  private async authorized(call: (token: string) => Promise<AxiosResponse<string>>): Promise<AxiosResponse<string>> {
    let token = await this.token();
    for (let attempt = 0; ; attempt++) {
      const res = await this.send(() => call(token));
      if (res.status !== 401) return res;
      if (attempt >= (this.opts.maxAuthRetries ?? 2))
        throw new TiteliveAuthError('Titelive: 401 after refreshing', 401);
      token = await this.token(true);
    }
  }

  private async send(call: () => Promise<AxiosResponse<string>>): Promise<AxiosResponse<string>> {
    try {
      return await call();
    } catch (err) {
      if (axios.isCancel(err)) throw err; // the caller cancelled: not an API failure
      const code = (err as { code?: string }).code ?? '';
      throw new TiteliveTransientError(`Titelive: network error ${code} ${(err as Error).message}`.trim());
    }
  }

  private check(res: AxiosResponse<string>, what: string): void {
    if (res.status >= 200 && res.status < 300) return;
    if (res.status === 429) {
      throw new TiteliveRateLimitedError(
        `Titelive ${what}: 429 Too Many Requests`,
        parseRetryAfter(res.headers['retry-after']),
      );
    }
    if (res.status >= 500 || res.status === 408)
      throw new TiteliveTransientError(`Titelive ${what}: HTTP ${res.status}`, res.status);
    throw new TiteliveError(`Titelive ${what}: HTTP ${res.status} ${String(res.data).slice(0, 200)}`, res.status);
  }

  private json(res: AxiosResponse<string>, what: string): unknown {
    try {
      return JSON.parse(res.data);
    } catch {
      throw new TiteliveTransientError(`Titelive ${what}: malformed JSON body (${String(res.data).length} bytes)`);
    }
  }
}

export function createTiteliveClient(config: Config): TiteliveClient {
  return new TiteliveClient({
    loginUrl: config.TITELIVE_LOGIN_URL,
    searchUrl: config.TITELIVE_SEARCH_URL,
    username: config.TITELIVE_USERNAME,
    password: config.TITELIVE_PASSWORD,
  });
}

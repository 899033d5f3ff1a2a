/**
 * OAuth2 access tokens for the partner API: a form-encoded POST to the token URL with the client
 * credentials grant (private API key) or the password grant (public key + the channel owner's login).
 * The token is cached in memory and replaced ~60 s before it expires; concurrent callers share one
 * in-flight request. A refresh token (password grant only) is tried before a full grant.
 */
import type { AxiosInstance } from 'axios';
import { DailymotionApiError, redact } from './errors';
import { bodySummary, parseJson, send, statusError } from './http';
import { oauthErrorSchema, tokenResponseSchema } from './schemas';

export type DailymotionCredentials =
  | { kind: 'client_credentials'; clientId: string; clientSecret: string }
  | { kind: 'password'; clientId: string; clientSecret: string; username: string; password: string };

export interface TokenManagerOptions {
  tokenUrl: string;
  credentials: DailymotionCredentials;
  /** Space-separated scopes (sent with every grant when not empty). */
  scope: string;
  /** Replace a cached token this long before it expires (capped at half its lifetime). */
  refreshMarginMs?: number;
  now?: () => number;
}

interface CachedToken {
  accessToken: string;
  /** When to stop using it (its expiry less the refresh margin). */
  expiresAt: number;
}

export class TokenManager {
  private cached?: CachedToken;
  private refreshToken?: string;
  private pending?: Promise<string>;
  /** Token requests sent (tests and logs). */
  tokenRequests = 0;

  constructor(
    private readonly http: AxiosInstance,
    private readonly opts: TokenManagerOptions,
  ) {}

  private now(): number {
    return (this.opts.now ?? Date.now)();
  }

  /** Every value that must never appear in a message. */
  secrets(): (string | undefined)[] {
    const c = this.opts.credentials;
    return [
      c.clientSecret,
      c.kind === 'password' ? c.password : undefined,
      this.cached?.accessToken,
      this.refreshToken,
    ];
  }

  /** A valid access token: the cached one unless it is about to expire (one request at a time). */
  async token(): Promise<string> {
    if (this.cached && this.now() < this.cached.expiresAt) return this.cached.accessToken;
    this.pending ??= this.obtain().finally(() => (this.pending = undefined));
    return this.pending;
  }

  /** Drops the cached token if it is still `token` (the API said it expired or is invalid). */
  invalidate(token: string): void {
    if (this.cached?.accessToken === token) this.cached = undefined;
  }

  private async obtain(): Promise<string> {
    if (this.refreshToken) {
      try {
        return await this.grant({ grant_type: 'refresh_token', refresh_token: this.refreshToken });
      } catch (err) {
        if (!(err instanceof DailymotionApiError) || err.kind !== 'auth') throw err;
        this.refreshToken = undefined; // refused: fall back to a full grant
      }
    }
    const c = this.opts.credentials;
    return this.grant(
      c.kind === 'password'
        ? { grant_type: 'password', username: c.username, password: c.password }
        : { grant_type: 'client_credentials' },
    );
  }

  private async grant(params: Record<string, string>): Promise<string> {
    const { credentials: c, scope, tokenUrl } = this.opts;
    const form = new URLSearchParams({ ...params, client_id: c.clientId, client_secret: c.clientSecret });
    if (scope.trim()) form.set('scope', scope.trim());
    this.tokenRequests++;
    const res = await send<string>(
      this.http,
      {
        method: 'POST',
        url: tokenUrl,
        data: form.toString(),
        headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' },
      },
      'token request',
      () => this.secrets(),
    );
    const what = `token request (${params.grant_type} grant)`;
    if (res.status < 200 || res.status >= 300) {
      const oauth = res.status < 500 ? oauthErrorSchema.safeParse(safeJson(res.data)) : undefined;
      if (oauth?.success && res.status !== 429) {
        const { error, error_description } = oauth.data;
        const msg = `Dailymotion ${what} refused: HTTP ${res.status} ${error}${error_description ? ` (${error_description})` : ''}`;
        throw new DailymotionApiError('auth', redact(msg, this.secrets()), res.status);
      }
      throw statusError(res, what, bodySummary(res, this.secrets()));
    }
    const parsed = tokenResponseSchema.safeParse(parseJson(res, what));
    if (!parsed.success)
      throw new DailymotionApiError('transient', `Dailymotion ${what}: no access token in the response`, res.status);
    const t = parsed.data;
    const lifetimeMs = t.expires_in * 1000;
    const margin = Math.min(this.opts.refreshMarginMs ?? 60_000, lifetimeMs / 2);
    this.cached = { accessToken: t.access_token, expiresAt: this.now() + lifetimeMs - margin };
    if (t.refresh_token) this.refreshToken = t.refresh_token;
    return t.access_token;
  }
}

function safeJson(data: unknown): unknown {
  try {
    return typeof data === 'string' ? JSON.parse(data) : data;
  } catch {
    return undefined;
  }
}

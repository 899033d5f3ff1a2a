/**
 * The sandbox's OAuth2 token endpoint and bearer-token checks. Grants: client_credentials (private
 * keys; no refresh token), password (public keys + the channel owner's login; returns a refresh token)
 * and refresh_token. Tokens expire on the sandbox clock. Errors are OAuth2 bodies
 * (`{error, error_description}`); API calls with an expired token get 401 and
 * `WWW-Authenticate: Bearer error="expired_token"`.
 */
import { randomBytes } from 'node:crypto';

export interface SandboxApiClient {
  clientId: string;
  clientSecret: string;
  /** Scopes this API key may be granted. */
  scopes: string[];
  /** The partner account its reports count against (2 generating at once). */
  account: string;
  /** Logins accepted by the password grant (public keys). */
  users?: { username: string; password: string }[];
}

export interface TokenInfo {
  clientId: string;
  account: string;
  scopes: string[];
  expiresAt: number;
  grant: string;
}

export interface OAuthAnswer {
  status: number;
  headers?: Record<string, string>;
  body: object;
}

const oauthError = (status: number, error: string, description: string, headers?: Record<string, string>) => ({
  status,
  headers: { 'cache-control': 'no-store', ...headers },
  body: { error, error_description: description },
});

export class TokenStore {
  private readonly access = new Map<string, TokenInfo>();
  private readonly refresh = new Map<string, { clientId: string; account: string; scopes: string[] }>();
  /** Tokens issued, by grant type. */
  readonly issued: Record<string, number> = {};

  constructor(
    readonly clients: SandboxApiClient[],
    public ttlSec: number,
  ) {}

  /** Handles a token request (form fields; client auth in the form or HTTP Basic). */
  grant(form: URLSearchParams, authorization: string | undefined, now: number): OAuthAnswer {
    let clientId = form.get('client_id') ?? undefined;
    let secret = form.get('client_secret') ?? undefined;
    const basic = /^Basic\s+(.+)$/i.exec(authorization ?? '');
    if (basic) {
      const [id, ...rest] = Buffer.from(basic[1], 'base64').toString('utf8').split(':');
      clientId = decodeURIComponent(id);
      secret = decodeURIComponent(rest.join(':'));
    }
    const grantType = form.get('grant_type');
    if (!grantType) return oauthError(400, 'invalid_request', 'Missing grant_type parameter');
    const client = this.clients.find((c) => c.clientId === clientId);
    if (!client || client.clientSecret !== secret)
      return oauthError(401, 'invalid_client', 'Client authentication failed', {
        'www-authenticate': 'Basic realm="oauth"',
      });
    const requested = (form.get('scope') ?? '').split(/[\s,]+/).filter(Boolean);
    const notAllowed = requested.filter((s) => !client.scopes.includes(s));
    if (notAllowed.length) return oauthError(400, 'invalid_scope', `Scope not allowed: ${notAllowed.join(' ')}`);
    switch (grantType) {
      case 'client_credentials':
        return this.issue(client.clientId, client.account, requested, grantType, now, false);
      case 'password': {
        const user = client.users?.find((u) => u.username === form.get('username'));
        if (!user || user.password !== form.get('password'))
          return oauthError(400, 'invalid_grant', 'Invalid username or password');
        return this.issue(client.clientId, client.account, requested, grantType, now, true);
      }
      case 'refresh_token': {
        const r = this.refresh.get(form.get('refresh_token') ?? '');
        if (!r || r.clientId !== client.clientId) return oauthError(400, 'invalid_grant', 'Invalid refresh token');
        this.refresh.delete(form.get('refresh_token')!);
        return this.issue(r.clientId, r.account, requested.length ? requested : r.scopes, grantType, now, true);
      }
      default:
        return oauthError(400, 'unsupported_grant_type', `Unsupported grant type: ${grantType}`);
    }
  }

  private issue(clientId: string, account: string, scopes: string[], grant: string, now: number, withRefresh: boolean) {
    const token = randomBytes(24).toString('base64url');
    this.access.set(token, { clientId, account, scopes, grant, expiresAt: now + this.ttlSec * 1000 });
    this.issued[grant] = (this.issued[grant] ?? 0) + 1;
    const body: Record<string, unknown> = {
      access_token: token,
      token_type: 'Bearer',
      expires_in: this.ttlSec,
      scope: scopes.join(' '),
    };
    if (withRefresh) {
      const rt = randomBytes(24).toString('base64url');
      this.refresh.set(rt, { clientId, account, scopes });
      body.refresh_token = rt;
    }
    return { status: 200, headers: { 'cache-control': 'no-store' }, body };
  }

  /** Checks a request's bearer token; an answer means refuse the request with it. */
  check(authorization: string | undefined, now: number, needScope?: string): TokenInfo | OAuthAnswer {
    const m = /^Bearer\s+(\S+)$/i.exec(authorization ?? '');
    if (!m)
      return oauthError(401, 'invalid_request', 'The access token is missing', {
        'www-authenticate': 'Bearer realm="api"',
      });
    const info = this.access.get(m[1]);
    if (!info)
      return oauthError(401, 'invalid_token', 'The access token is invalid', {
        'www-authenticate':
          'Bearer realm="api", error="invalid_token", error_description="The access token is invalid"',
      });
    if (now >= info.expiresAt)
      return oauthError(401, 'expired_token', 'The access token expired', {
        'www-authenticate': 'Bearer realm="api", error="expired_token", error_description="The access token expired"',
      });
    if (needScope && !info.scopes.includes(needScope))
      return oauthError(403, 'insufficient_scope', `The ${needScope} scope is required`, {
        'www-authenticate': `Bearer realm="api", error="insufficient_scope", scope="${needScope}"`,
      });
    return info;
  }

  /** Makes every issued access token expire now (tests: force a refresh). */
  expireAll(now: number): void {
    for (const t of this.access.values()) t.expiresAt = Math.min(t.expiresAt, now);
  }
}

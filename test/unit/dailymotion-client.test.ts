/**
 * The Dailymotion client's authentication and error typing against the sandbox: both grants, the
 * token cache (one request shared by concurrent callers, replaced before expiry, replaced and retried
 * once after a 401), refused credentials and scopes, 5xx/429/network classification with Retry-After,
 * fromConfig's checks, and secrets that never reach an error message.
 */
import { inspect } from 'node:util';
import { describe, expect, it } from 'vitest';
import { ConfigError, parseConfig } from '../../src/config';
import { DailymotionClient } from '../../src/pipelines/dailymotion/connector/client';
import { DailymotionApiError } from '../../src/pipelines/dailymotion/connector/errors';
import {
  dailymotionSandbox,
  type DailymotionSandbox,
  DM_SANDBOX_CLIENT_ID,
  DM_SANDBOX_CLIENT_SECRET,
  DM_SANDBOX_PASSWORD,
  DM_SANDBOX_USERNAME,
} from '../../src/pipelines/dailymotion/sandbox';
import { dailymotionSandboxPerTest, sandboxClient } from '../helpers/dailymotion';
import { rejection } from '../helpers/rejection';

const SCOPE = 'create_reports read_reports access_ads access_revenue delete_reports';
const ASK = {
  metrics: ['VIEWS' as const],
  dimensions: ['DAY' as const, 'VIDEO_ID' as const],
  startDate: '2025-06-01',
  endDate: '2025-06-02',
};

const setup = dailymotionSandboxPerTest(5, SCOPE);

const routes = (s: DailymotionSandbox) => s.log.map((e) => `${e.route} ${e.status}`);

describe('dailymotion client: tokens', () => {
  it('client credentials: one token for many calls, sent form-encoded with the scopes', async () => {
    const { s, client } = await setup();
    const token = await client.askReport(ASK);
    for (let i = 0; i < 3; i++) expect((await client.getReport(token)).status).toBe('IN_PROGRESS');
    expect(client.tokenRequests).toBe(1);
    expect(routes(s)).toEqual(['token 200', 'graphql 200', 'graphql 200', 'graphql 200', 'graphql 200']);
    expect(s.tokens.issued).toEqual({ client_credentials: 1 });
  });

  it('password grant: logs in with the channel owner, then refreshes with the refresh token', async () => {
    const { s, client } = await setup(
      {},
      {
        credentials: {
          kind: 'password',
          clientId: DM_SANDBOX_CLIENT_ID,
          clientSecret: DM_SANDBOX_CLIENT_SECRET,
          username: DM_SANDBOX_USERNAME,
          password: DM_SANDBOX_PASSWORD,
        },
      },
    );
    const token = await client.askReport(ASK);
    await s.expireTokens();
    expect((await client.getReport(token)).status).toBe('IN_PROGRESS');
    expect(s.tokens.issued).toEqual({ password: 1, refresh_token: 1 });
  });

  it('concurrent callers share one in-flight token request', async () => {
    const { s, client } = await setup();
    const tokens = await Promise.all([client.askReport(ASK), client.askReport(ASK)]);
    s.clock.advance(10_000);
    const statuses = await Promise.all([...tokens, ...tokens, ...tokens].map((t) => client.getReport(t)));
    expect(statuses.every((r) => r.status === 'FINISHED')).toBe(true);
    expect(client.tokenRequests).toBe(1);
    expect(s.log.filter((e) => e.route === 'token')).toHaveLength(1);
  });

  it('replaces the token ~60 s before it expires, without a 401', async () => {
    let now = 1_000_000;
    const { s, client } = await setup({ tokenTtlSec: 600 }, { now: () => now });
    const token = await client.askReport(ASK);
    now += 530_000; // 8 min 50 s: still more than 60 s left
    s.clock.advance(530_000);
    await client.getReport(token);
    expect(client.tokenRequests).toBe(1);
    now += 20_000; // 50 s left: inside the refresh margin
    s.clock.advance(20_000);
    await client.getReport(token);
    expect(client.tokenRequests).toBe(2);
    expect(routes(s)).toEqual(['token 200', 'graphql 200', 'graphql 200', 'token 200', 'graphql 200']);
  });

  it('on 401 expired_token (sandbox clock past expiry) gets a new token and retries the call once', async () => {
    const { s, client } = await setup({ tokenTtlSec: 3600 });
    const token = await client.askReport(ASK);
    s.clock.advance(2 * 3600_000); // the client's own clock still thinks the token is fresh
    expect((await client.getReport(token)).status).toBe('FINISHED');
    expect(routes(s)).toEqual(['token 200', 'graphql 200', 'graphql 401', 'token 200', 'graphql 200']);
  });

  it('a 401 that persists after the refresh is an auth error (no loop)', async () => {
    const { s, client } = await setup();
    await client.accessToken();
    s.faults.add({ route: 'graphql', kind: '401', times: 5 });
    const err = await rejection(client.askReport(ASK), DailymotionApiError);
    expect(err.kind).toBe('auth');
    expect(err.status).toBe(401);
    expect(err.retryable).toBe(false);
    expect(routes(s)).toEqual(['token 200', 'graphql 401', 'token 200', 'graphql 401']);
  });

  it('refused credentials and missing scopes are auth errors that never show the secret or password', async () => {
    const secret = 'sUp3r-s3cret-value-0042';
    const clients = [
      {
        clientId: 'k1',
        clientSecret: secret,
        scopes: ['read_reports'],
        account: 'a1',
        users: [{ username: 'u', password: 'pw-9999' }],
      },
    ];
    const { client, url } = await setup(
      { clients },
      { credentials: { kind: 'client_credentials', clientId: 'k1', clientSecret: 'wrong-' + secret } },
    );
    const wrongSecret = await rejection(client.askReport(ASK), DailymotionApiError);
    expect(wrongSecret.kind).toBe('auth');
    expect(wrongSecret.status).toBe(401);
    expect(wrongSecret.message).toContain('invalid_client');

    const badPassword = new DailymotionClient({
      baseUrl: url,
      credentials: { kind: 'password', clientId: 'k1', clientSecret: secret, username: 'u', password: 'not-pw-9999' },
      scope: 'read_reports',
    });
    const wrongLogin = await rejection(badPassword.askReport(ASK), DailymotionApiError);
    expect(wrongLogin.message).toContain('invalid_grant');

    const tooMuch = new DailymotionClient({
      baseUrl: url,
      credentials: { kind: 'client_credentials', clientId: 'k1', clientSecret: secret },
      scope: SCOPE,
    });
    const badScope = await rejection(tooMuch.askReport(ASK), DailymotionApiError);
    expect(badScope.message).toContain('invalid_scope');

    const readOnly = new DailymotionClient({
      baseUrl: url,
      credentials: { kind: 'client_credentials', clientId: 'k1', clientSecret: secret },
      scope: 'read_reports',
    });
    const noCreate = await rejection(readOnly.askReport(ASK), DailymotionApiError);
    expect(noCreate.kind).toBe('auth');
    expect(noCreate.status).toBe(403);
    expect(noCreate.message).toContain('insufficient_scope');

    for (const e of [wrongSecret, wrongLogin, badScope, noCreate]) {
      const text = `${e.message}\n${e.stack}\n${inspect(e)}`;
      for (const s of [secret, 'wrong-' + secret, 'not-pw-9999', 'pw-9999']) expect(text).not.toContain(s);
      expect(e.retryable).toBe(false);
    }
  });
});

describe('dailymotion client: error typing', () => {
  it('5xx → transient (retryable); 429 → rate_limited with Retry-After in ms', async () => {
    const { s, client } = await setup();
    s.faults.add({ route: 'graphql', kind: '503', times: 1 });
    const e503 = await rejection(client.askReport(ASK), DailymotionApiError);
    expect([e503.kind, e503.status, e503.retryable]).toEqual(['transient', 503, true]);

    s.faults.add({ route: 'graphql', kind: '429', times: 1, retryAfterSec: 7 });
    const e429 = await rejection(client.askReport(ASK), DailymotionApiError);
    expect([e429.kind, e429.status, e429.retryAfterMs, e429.retryable]).toEqual(['rate_limited', 429, 7000, true]);

    s.faults.add({ route: 'token', kind: '500', times: 1 });
    const fresh = sandboxClient(s.url, { scope: SCOPE });
    const eToken = await rejection(fresh.accessToken(), DailymotionApiError);
    expect([eToken.kind, eToken.status]).toEqual(['transient', 500]);
    expect(await client.askReport(ASK)).toMatch(/^[0-9a-f]{32}$/);
  });

  it('network resets and malformed bodies → transient, with no secret in the message', async () => {
    const { s, client } = await setup();
    await client.accessToken();
    s.faults.add({ route: 'graphql', kind: 'reset', times: 1 });
    const reset = await rejection(client.askReport(ASK), DailymotionApiError);
    expect([reset.kind, reset.status]).toEqual(['transient', 0]);
    s.faults.add({ route: 'graphql', kind: 'malformed', times: 1 });
    const malformed = await rejection(client.askReport(ASK), DailymotionApiError);
    expect([malformed.kind, malformed.status]).toEqual(['transient', 200]);
    s.faults.add({ route: 'token', kind: 'reset', times: 1 });
    const other = sandboxClient(s.url, { scope: SCOPE });
    const tokenReset = await rejection(other.accessToken(), DailymotionApiError);
    expect(tokenReset.kind).toBe('transient');
    for (const e of [reset, malformed, tokenReset]) expect(inspect(e)).not.toContain(DM_SANDBOX_CLIENT_SECRET);
  });

  it('input the schema refuses fails locally as invalid_request, before any call', async () => {
    const { s, client } = await setup();
    const bad = await rejection(
      client.askReport({ ...ASK, metrics: ['NOT_A_METRIC' as 'VIEWS'] }),
      DailymotionApiError,
    );
    expect([bad.kind, bad.status]).toEqual(['invalid_request', 0]);
    const badDate = await rejection(client.askReport({ ...ASK, startDate: '01/06/2025' }), DailymotionApiError);
    expect(badDate.kind).toBe('invalid_request');
    expect(s.log).toHaveLength(0);
  });

  it('an unknown report token → not_found', async () => {
    const { client } = await setup();
    const e = await rejection(client.getReport('0123456789abcdef0123456789abcdef'), DailymotionApiError);
    expect([e.kind, e.retryable]).toEqual(['not_found', false]);
  });
});

describe('DailymotionClient.fromConfig', () => {
  it('names the missing DM_* variable', () => {
    expect(() => DailymotionClient.fromConfig(parseConfig({}))).toThrow(ConfigError);
    expect(() => DailymotionClient.fromConfig(parseConfig({}))).toThrow(/DM_CLIENT_API/);
    expect(() => DailymotionClient.fromConfig(parseConfig({ DM_CLIENT_API: 'k' }))).toThrow(/DM_CLIENT_SECRET/);
    expect(() =>
      DailymotionClient.fromConfig(parseConfig({ DM_CLIENT_API: 'k', DM_CLIENT_SECRET: 's', DM_USERNAME: 'u' })),
    ).toThrow(/DM_PASSWORD/);
  });

  it('builds URLs from DM_BASE_URL (overridable) and works with the sandbox factory env', async () => {
    const c = DailymotionClient.fromConfig(
      parseConfig({
        DM_CLIENT_API: 'k',
        DM_CLIENT_SECRET: 's',
        DM_BASE_URL: 'https://partner.api.dailymotion.com',
        DM_AUTH_URL: 'https://graphql.api.dailymotion.com/oauth/token',
      }),
    );
    expect(c.urls).toEqual({
      auth: 'https://graphql.api.dailymotion.com/oauth/token',
      graph: 'https://partner.api.dailymotion.com/graphql',
    }); // no REST URL: nothing the pipeline calls is REST (DM_REST_URL was removed, issue #17)

    const sandbox = dailymotionSandbox.create({ seed: 2 }) as DailymotionSandbox;
    try {
      const url = await sandbox.start();
      const client = DailymotionClient.fromConfig(parseConfig(dailymotionSandbox.env(url)));
      expect(await client.askReport(ASK)).toMatch(/^[0-9a-f]{32}$/);
    } finally {
      await sandbox.stop();
    }
    expect(dailymotionSandbox.port).toBe(4101);
  });
});

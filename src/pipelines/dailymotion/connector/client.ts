/**
 * Dailymotion partner-reporting client (axios + zod; knows nothing of Temporal): ask for a report file
 * (`askPartnerReportFile`), read its status and every page of its download links, and stream each CSV
 * file. Tokens come from the TokenManager; a 401/403 saying the token expired or is invalid refreshes it
 * and retries the call once. Every failure is a typed DailymotionApiError (see errors.ts): GraphQL
 * answers HTTP 200 with `errors` for refused asks, and those are failures too.
 */
import type http from 'node:http';
import type https from 'node:https';
import type { Readable } from 'node:stream';
import type { AxiosInstance, AxiosResponse } from 'axios';
import { apiHttpClient } from '../../../kit/activity/http-client';
import { parseRetryAfter } from '../../../kit/activity/http';
import { ConfigError, type Config } from '../../../config';
import { TokenManager, type DailymotionCredentials } from './auth';
import { AskReportInput, type PartnerReportStatus } from './enums';
import { classifyGraphqlError, DailymotionApiError, redact, ReportLinkGoneError, safeUrl } from './errors';
import { bodySummary, bodyText, parseJson, send, statusError } from './http';
import {
  ASK_REPORT_MUTATION,
  askPayloadSchema,
  graphqlEnvelopeSchema,
  REPORT_STATUS_QUERY,
  statusPayloadSchema,
  type GraphqlError,
} from './schemas';

export type { DailymotionCredentials } from './auth';

export interface DailymotionClientOptions {
  /** e.g. https://partner.api.dailymotion.com */
  baseUrl: string;
  /** Token URL; default `<baseUrl>/oauth/v1/token` (public keys: https://graphql.api.dailymotion.com/oauth/token). */
  authUrl?: string;
  /** GraphQL URL; default `<baseUrl>/graphql`. */
  graphUrl?: string;
  credentials: DailymotionCredentials;
  /** Scopes, space-separated or as a list. */
  scope: string | readonly string[];
  httpAgent?: http.Agent;
  httpsAgent?: https.Agent;
  /** Per-request timeout of API calls (ms). */
  timeoutMs?: number;
  /** Idle-socket timeout of CSV downloads (ms). */
  downloadTimeoutMs?: number;
  /** `first` asked of the downloadLinks connection. */
  linksPageSize?: number;
  refreshMarginMs?: number;
  /** Send the bearer token with downloads whose origin is the API's (off: links are self-signed URLs). */
  authorizeDownloads?: boolean;
  now?: () => number;
}

export interface ReportStatus {
  status: PartnerReportStatus;
  links: string[];
}

const MAX_LINK_PAGES = 1000;
/** Kinds that no retry fixes win over retryable ones when a response carries several errors. */
const PRECEDENCE = ['auth', 'invalid_request', 'not_found', 'concurrency_limit', 'rate_limited', 'transient'] as const;

export class DailymotionClient {
  readonly urls: { auth: string; graph: string };
  private readonly http: AxiosInstance;
  private readonly tokens: TokenManager;

  constructor(private readonly opts: DailymotionClientOptions) {
    const base = opts.baseUrl.replace(/\/+$/, '');
    this.urls = {
      auth: opts.authUrl ?? `${base}/oauth/v1/token`,
      graph: opts.graphUrl ?? `${base}/graphql`,
    };
    this.http = apiHttpClient({
      timeoutMs: opts.timeoutMs ?? 60_000,
      maxSockets: 8,
      maxRedirects: 5,
      httpAgent: opts.httpAgent,
      httpsAgent: opts.httpsAgent,
    });
    const scope = typeof opts.scope === 'string' ? opts.scope : opts.scope.join(' ');
    this.tokens = new TokenManager(this.http, {
      tokenUrl: this.urls.auth,
      credentials: opts.credentials,
      scope,
      refreshMarginMs: opts.refreshMarginMs,
      now: opts.now,
    });
  }

  /** A client from the DM_* variables; throws a ConfigError naming the first missing one. */
  static fromConfig(config: Config, extra: Partial<DailymotionClientOptions> = {}): DailymotionClient {
    const need = (name: string, value: string | undefined): string => {
      if (!value) throw new ConfigError(`${name} is not set: the Dailymotion connector needs it`);
      return value;
    };
    const clientId = need('DM_CLIENT_API', config.DM_CLIENT_API);
    const clientSecret = need('DM_CLIENT_SECRET', config.DM_CLIENT_SECRET);
    const credentials: DailymotionCredentials =
      config.DM_USERNAME || config.DM_PASSWORD
        ? {
            kind: 'password',
            clientId,
            clientSecret,
            username: need('DM_USERNAME', config.DM_USERNAME),
            password: need('DM_PASSWORD', config.DM_PASSWORD),
          }
        : { kind: 'client_credentials', clientId, clientSecret };
    return new DailymotionClient({
      baseUrl: config.DM_BASE_URL,
      authUrl: config.DM_AUTH_URL,
      graphUrl: config.DM_GRAPH_URL,
      credentials,
      scope: config.DM_SCOPE,
      ...extra,
    });
  }

  /** Token requests sent so far. */
  get tokenRequests(): number {
    return this.tokens.tokenRequests;
  }

  /** A valid access token (cached; refreshed shortly before it expires). */
  async accessToken(): Promise<string> {
    return this.tokens.token();
  }

  /** Asks for a report file; returns its reportToken. Input the API would refuse by type fails here. */
  async askReport(input: AskReportInput): Promise<string> {
    const parsed = AskReportInput.safeParse(input);
    if (!parsed.success) {
      const issues = parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ');
      throw new DailymotionApiError('invalid_request', `Dailymotion ask report: invalid input (${issues})`, 0);
    }
    const data = await this.graphql(ASK_REPORT_MUTATION, { input: parsed.data }, 'ask report');
    const payload = askPayloadSchema.safeParse(data);
    if (!payload.success)
      throw new DailymotionApiError('transient', 'Dailymotion ask report: no reportToken in the response', 200);
    return payload.data.askPartnerReportFile.reportFile.reportToken;
  }

  /** A report's status and, once FINISHED, every download link (all pages of the connection). */
  async getReport(reportToken: string): Promise<ReportStatus> {
    const links: string[] = [];
    let page = 1;
    for (let n = 0; n < MAX_LINK_PAGES; n++) {
      const variables = { reportToken, first: this.opts.linksPageSize ?? 50, page };
      const data = await this.graphql(REPORT_STATUS_QUERY, variables, 'report status');
      const payload = statusPayloadSchema.safeParse(data);
      if (!payload.success)
        throw new DailymotionApiError('transient', `Dailymotion report status: unexpected shape`, 200);
      const file = payload.data.partner?.reportFile;
      if (!file) throw new DailymotionApiError('not_found', 'Dailymotion report status: no such report', 200);
      for (const edge of file.downloadLinks?.edges ?? []) if (edge?.node?.link) links.push(edge.node.link);
      const info = file.downloadLinks?.pageInfo;
      if (file.status !== 'FINISHED' || !info?.hasNextPage) return { status: file.status, links };
      const next = info.nextPage ?? page + 1;
      if (next <= page)
        throw new DailymotionApiError('transient', `Dailymotion report status: links paging stuck at ${page}`, 200);
      page = next;
    }
    throw new DailymotionApiError(
      'transient',
      `Dailymotion report status: more than ${MAX_LINK_PAGES} link pages`,
      200,
    );
  }

  /** Streams one report CSV file. 403/404/410 → ReportLinkGoneError (expired or deleted report). */
  async downloadCsv(link: string): Promise<Readable> {
    const headers: Record<string, string> = { accept: 'text/csv, */*' };
    if (this.opts.authorizeDownloads && new URL(link).origin === new URL(this.urls.graph).origin)
      headers.authorization = `Bearer ${await this.tokens.token()}`;
    const where = `report file ${safeUrl(link)}`;
    const res = await send<Readable>(
      this.http,
      { method: 'GET', url: link, responseType: 'stream', timeout: this.opts.downloadTimeoutMs ?? 120_000, headers },
      where,
      () => [...this.tokens.secrets(), link],
    );
    if (res.status >= 200 && res.status < 300) return res.data;
    res.data.destroy();
    if (res.status === 403 || res.status === 404 || res.status === 410)
      throw new ReportLinkGoneError(`Dailymotion ${where}: HTTP ${res.status} (expired or deleted)`, res.status);
    throw statusError(res, where, '');
  }

  /** Runs a GraphQL operation; returns `data`. A token the API calls expired/invalid is replaced once. */
  private async graphql(query: string, variables: object, what: string): Promise<Record<string, unknown>> {
    const secrets = () => this.tokens.secrets();
    for (let attempt = 0; ; attempt++) {
      const token = await this.tokens.token();
      const res = await send<string>(
        this.http,
        {
          method: 'POST',
          url: this.urls.graph,
          data: JSON.stringify({ query, variables }),
          headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', accept: 'application/json' },
        },
        what,
        secrets,
      );
      if (res.status === 401 || res.status === 403) {
        const problem = tokenProblem(res);
        if ((problem === 'expired_token' || problem === 'invalid_token') && attempt === 0) {
          this.tokens.invalidate(token);
          continue;
        }
        const detail = problem ? ` (${problem})` : ` ${bodySummary(res, secrets())}`;
        throw new DailymotionApiError('auth', `Dailymotion ${what}: HTTP ${res.status}${detail}`, res.status);
      }
      const envelope =
        res.status >= 200 && res.status < 300
          ? graphqlEnvelopeSchema.safeParse(parseJson(res, what))
          : graphqlEnvelopeSchema.safeParse(tryJson(bodyText(res)));
      if (!(res.status >= 200 && res.status < 300) && !(res.status === 400 && envelope.data?.errors?.length))
        throw statusError(res, what, bodySummary(res, secrets()));
      if (!envelope.success)
        throw new DailymotionApiError('transient', `Dailymotion ${what}: not a GraphQL response`, res.status);
      const errors = envelope.data.errors ?? [];
      if (errors.length) {
        const kind = pickKind(errors);
        if (kind === 'token' && attempt === 0) {
          this.tokens.invalidate(token);
          continue;
        }
        const message = redact(`Dailymotion ${what}: ${errors.map((e) => e.message).join('; ')}`, secrets());
        throw new DailymotionApiError(
          kind === 'token' ? 'auth' : kind,
          message,
          res.status,
          parseRetryAfter(res.headers['retry-after']),
        );
      }
      if (!envelope.data.data)
        throw new DailymotionApiError('transient', `Dailymotion ${what}: no data in the response`, res.status);
      return envelope.data.data;
    }
  }
}

/** The OAuth error code of a 401/403: WWW-Authenticate `error="…"`, else the body's `error`. */
function tokenProblem(res: AxiosResponse): string | undefined {
  const header = String(res.headers['www-authenticate'] ?? '');
  const m = /error="([^"]+)"/i.exec(header);
  if (m) return m[1];
  const body = tryJson(bodyText(res)) as { error?: unknown; errors?: { message?: unknown }[] } | undefined;
  if (typeof body?.error === 'string') return body.error;
  const msg = body?.errors?.[0]?.message;
  if (typeof msg === 'string' && classifyGraphqlError(msg) === 'token')
    return /expired/i.test(msg) ? 'expired_token' : 'invalid_token';
  return undefined;
}

function pickKind(errors: GraphqlError[]) {
  const kinds = errors.map((e) => classifyGraphqlError(e.message, e.extensions?.code));
  if (kinds.includes('token')) return 'token' as const;
  return PRECEDENCE.find((k) => kinds.includes(k)) ?? 'invalid_request';
}

function tryJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

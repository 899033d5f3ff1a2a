/**
 * The Dailymotion partner-reporting sandbox: `POST /oauth/v1/token` (and `/oauth/token`, the public-key
 * endpoint), `POST /graphql` with the ask mutation and the status query, and the report files at
 * `GET /reports/files/:token/:n.csv?sig=…` (self-signed links, no bearer token, like storage URLs).
 * Reports generate on the sandbox clock, at most 2 per account at once; files expire after 48 h.
 * Tests drive it with the methods below or the admin routes under `/__sandbox/dailymotion/…`.
 */
import { createHmac } from 'node:crypto';
import type { SandboxClock } from '../../../sandbox/clock';
import { HttpError, SandboxServer, type SandboxRequest, type SandboxResponse } from '../../../sandbox/server';
import type { AskReportInput } from '../connector/enums';
import { askRefusals } from './contract';
import { fingerprint } from '../../../node/fingerprint';
import { Catalog, type CatalogOptions } from './catalog';
import { csvStream } from './csv';
import { argValue, coerceAskInput, parseOperation, type Operation } from './graphql';
import { TokenStore, type SandboxApiClient, type TokenInfo } from './oauth';
import { DEFAULT_REPORT_SETTINGS, ReportRegistry, type ReportRecord, type ReportSettings } from './reports';
import { planReport, reportRows, timeLabel, type ReportPlan } from './rows';

export const DM_SANDBOX_CLIENT_ID = 'longhaul-demo-api-key';
export const DM_SANDBOX_CLIENT_SECRET = 'longhaul-demo-api-secret';
export const DM_SANDBOX_USERNAME = 'demo@longhaul.test';
export const DM_SANDBOX_PASSWORD = 'demo-password';
export const DM_SANDBOX_ACCOUNT = 'longhaul-demo-partner';
export const DM_SANDBOX_SCOPES = [
  'create_reports',
  'read_reports',
  'access_ads',
  'access_revenue',
  'delete_reports',
  'manage_reports',
];
export const DM_SANDBOX_PORT = 4101;

export interface DailymotionSandboxOptions extends Partial<ReportSettings> {
  seed?: number;
  clock?: SandboxClock;
  /** API keys (default: the demo key, which also accepts the demo login for the password grant). */
  clients?: SandboxApiClient[];
  /** Access-token lifetime (`expires_in`), default 3600 s. */
  tokenTtlSec?: number;
  /** Start every CSV file with a UTF-8 byte-order mark. */
  bom?: boolean;
  /**
   * Write metric values with thousands separators ("1,234", "1,234.5"; the field then quoted): an upstream
   * format change a client must not load as something else.
   */
  thousandsSeparator?: boolean;
  catalog?: Omit<CatalogOptions, 'seed'>;
  /** downloadLinks page size when `first` is omitted (default 10) and the largest page served (100). */
  linksPerPage?: number;
  maxLinksPerPage?: number;
}

export type Settings = ReportSettings & { bom: boolean; tokenTtlSec: number; thousandsSeparator: boolean };

/** 1234567.5 → 1,234,567.5 (text that is not a plain number is left as it is). */
export function withThousands(v: string): string {
  const m = /^(-?)(\d+)(\.\d+)?$/.exec(v);
  return m ? `${m[1]}${m[2].replace(/\B(?=(\d{3})+(?!\d))/g, ',')}${m[3] ?? ''}` : v;
}

export interface AskView extends Omit<ReportRecord, 'fails'> {
  status: string;
  failed: boolean;
  /** When it stopped generating (FINISHED, FAILED or EXPIRED), on the sandbox clock. */
  finishedAt?: number;
}

const xmlError = (status: number, code: string, message: string): SandboxResponse => ({
  status,
  headers: { 'content-type': 'application/xml' },
  body: `<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>${code}</Code><Message>${message}</Message></Error>`,
});

export class DailymotionSandbox extends SandboxServer {
  readonly catalog: Catalog;
  readonly tokens: TokenStore;
  readonly registry: ReportRegistry;
  readonly seed: number;
  private bom: boolean;
  private thousandsSeparator: boolean;
  private readonly linkKey: string;

  constructor(private readonly o: DailymotionSandboxOptions = {}) {
    super('dailymotion', { seed: o.seed, clock: o.clock, errorBody: faultBody });
    this.seed = o.seed ?? 1;
    this.catalog = new Catalog({ seed: this.seed, ...o.catalog });
    this.tokens = new TokenStore(
      o.clients ?? [
        {
          clientId: DM_SANDBOX_CLIENT_ID,
          clientSecret: DM_SANDBOX_CLIENT_SECRET,
          scopes: DM_SANDBOX_SCOPES,
          account: DM_SANDBOX_ACCOUNT,
          users: [{ username: DM_SANDBOX_USERNAME, password: DM_SANDBOX_PASSWORD }],
        },
      ],
      o.tokenTtlSec ?? 3600,
    );
    const settings: ReportSettings = { ...DEFAULT_REPORT_SETTINGS };
    for (const k of Object.keys(settings) as (keyof ReportSettings)[])
      if (o[k] !== undefined) (settings as unknown as Record<string, unknown>)[k] = o[k];
    this.registry = new ReportRegistry(settings, this.seed);
    this.bom = o.bom ?? false;
    this.thousandsSeparator = o.thousandsSeparator ?? false;
    this.linkKey = fingerprint(`dailymotion-links-${this.seed}-${Math.random()}`);

    this.route('POST', '/oauth/v1/token', 'token', (req) => this.token(req));
    this.route('POST', '/oauth/token', 'token', (req) => this.token(req));
    this.route('POST', '/graphql', 'graphql', (req) => this.graphql(req));
    this.route('GET', '/reports/files/:token/:file', 'download', (req) => this.download(req));
    this.registerDailymotionAdmin();
  }

  // ---- test controls -------------------------------------------------------------------------------

  /**
   * Changes generation time, failure rate, rows per file, retention, concurrency, BOM, token lifetime,
   * number format.
   */
  configure(s: Partial<Settings>): Settings {
    const { bom, tokenTtlSec, thousandsSeparator, ...report } = s;
    if (bom !== undefined) this.bom = bom;
    if (thousandsSeparator !== undefined) this.thousandsSeparator = thousandsSeparator;
    if (tokenTtlSec !== undefined) this.tokens.ttlSec = tokenTtlSec;
    for (const [k, v] of Object.entries(report)) if (v !== undefined) Object.assign(this.registry.settings, { [k]: v });
    return this.settings();
  }

  settings(): Settings {
    return {
      ...this.registry.settings,
      bom: this.bom,
      tokenTtlSec: this.tokens.ttlSec,
      thousandsSeparator: this.thousandsSeparator,
    };
  }

  /** The next `n` accepted asks end FAILED. */
  failNextAsks(n = 1): void {
    this.registry.failNextAsks(n);
  }

  /** Expires a report now: status EXPIRED, its links answer 404. */
  async expireReport(token: string): Promise<boolean> {
    return this.registry.expireNow(token, await this.clock.now());
  }

  /** Every issued access token expires now (the next API call gets 401 expired_token). */
  async expireTokens(): Promise<void> {
    this.tokens.expireAll(await this.clock.now());
  }

  /** Every accepted ask with its timing and current status, in ask order. */
  async asks(): Promise<AskView[]> {
    const now = await this.clock.now();
    return [...this.registry.reports.values()].map(({ fails, ...r }) => {
      const status = this.registry.status({ ...r, fails }, now);
      return { ...r, status, failed: fails, finishedAt: status === 'IN_PROGRESS' ? undefined : r.readyAt };
    });
  }

  /** Asks refused because the account already had the maximum generating. */
  refusedAsks() {
    return [...this.registry.refused];
  }

  /** The most reports one account ever had generating at once. */
  maxConcurrentGenerating(account?: string): number {
    return this.registry.maxConcurrentGenerating(account);
  }

  /** The exact rows (CSV field values) of an ask or of an accepted report, optionally a slice of them. */
  expectedRows(
    askOrToken: AskReportInput | string,
    opts: { offset?: number; limit?: number } = {},
  ): { header: string[]; total: number; rows: string[][] } {
    const input = typeof askOrToken === 'string' ? this.registry.reports.get(askOrToken)?.input : askOrToken;
    if (!input) throw new HttpError(404, { error: 'unknown report token' });
    const plan = planReport(this.catalog, this.seed, input);
    const from = opts.offset ?? 0;
    const to = opts.limit === undefined ? plan.total : from + opts.limit;
    return { header: plan.header, total: plan.total, rows: [...reportRows(plan, from, to)] };
  }

  /** The download links of an accepted report (whatever its status). */
  links(rec: ReportRecord): string[] {
    return Array.from({ length: rec.files }, (_, i) => {
      const n = i + 1;
      return `${this.url}/reports/files/${rec.token}/${n}.csv?sig=${this.sign(rec.token, n)}`;
    });
  }

  // ---- endpoints -----------------------------------------------------------------------------------

  private async token(req: SandboxRequest): Promise<SandboxResponse> {
    const form = req.form();
    const out = this.tokens.grant(form, req.headers.authorization, await this.clock.now());
    const id = form.get('client_id');
    this.note({ grant: form.get('grant_type'), client: id ? fingerprint(id) : undefined });
    return out;
  }

  private async graphql(req: SandboxRequest): Promise<SandboxResponse> {
    const now = await this.clock.now();
    const auth = this.tokens.check(req.headers.authorization, now);
    if (!('clientId' in auth)) return auth;
    this.note({ client: fingerprint(auth.clientId), account: auth.account });
    const body = req.json<{ query?: unknown; variables?: Record<string, unknown> | null }>();
    if (typeof body?.query !== 'string')
      return { status: 400, body: { errors: [{ message: 'Must provide query string.' }] } };
    const op = parseOperation(body.query);
    if ('error' in op) return { status: 400, body: { errors: [{ message: op.error }] } };
    const variables = body.variables ?? {};
    if (op.kind === 'ask') {
      const scoped = this.tokens.check(req.headers.authorization, now, 'create_reports');
      if (!('clientId' in scoped)) return scoped;
      return this.ask(op, variables, auth, now);
    }
    return this.status(op, variables, auth, now);
  }

  private ask(
    op: Extract<Operation, { kind: 'ask' }>,
    variables: Record<string, unknown>,
    auth: TokenInfo,
    now: number,
  ): SandboxResponse {
    const inputs: AskReportInput[] = [];
    for (const f of op.fields) {
      const c = coerceAskInput(variables[f.variable], f.variable);
      if ('error' in c) return { body: { errors: [{ message: c.error }] } };
      inputs.push(c.input);
    }
    const data: Record<string, unknown> = {};
    const errors: { message: string; path: string[] }[] = [];
    op.fields.forEach((f, i) => {
      // A refused field is null in `data`, with its error at its path; the other fields still get their report.
      const refuse = (message: string) => {
        data[f.alias] = null;
        errors.push({ message, path: [f.alias] });
      };
      const input = inputs[i];
      const problems = askRefusals(input, now);
      if (problems.length) return refuse(problems.join('; '));
      const rows = planReport(this.catalog, this.seed, input).total;
      const rec = this.registry.ask(auth.account, auth.clientId, input, rows, now);
      if ('refused' in rec) return refuse(rec.refused);
      this.note({ reportToken: fingerprint(rec.token) });
      data[f.alias] = { reportFile: { reportToken: rec.token } };
    });
    return { body: errors.length ? { data, errors } : { data } };
  }

  private status(
    op: Extract<Operation, { kind: 'status' }>,
    variables: Record<string, unknown>,
    auth: TokenInfo,
    now: number,
  ): SandboxResponse {
    const token = argValue(op.token, variables);
    if (typeof token !== 'string')
      return {
        body: { errors: [{ message: 'Variable "$reportToken" of required type "String!" was not provided.' }] },
      };
    const int = (v: unknown, dflt: number, name: string) => {
      if (v === undefined || v === null) return dflt;
      if (!Number.isInteger(v) || (v as number) < 1)
        throw new HttpError(200, { errors: [{ message: `Argument "${name}" must be a positive integer` }] });
      return v as number;
    };
    const first = Math.min(
      int(argValue(op.first, variables), this.o.linksPerPage ?? 10, 'first'),
      this.o.maxLinksPerPage ?? 100,
    );
    const page = int(argValue(op.page, variables), 1, 'page');
    const rec = this.registry.reports.get(token);
    if (!rec || rec.account !== auth.account)
      return {
        body: {
          data: { [op.partnerAlias]: { [op.fileAlias]: null } },
          errors: [{ message: 'Report file not found', path: [op.partnerAlias, op.fileAlias] }],
        },
      };
    const status = this.registry.status(rec, now);
    const all = status === 'FINISHED' ? this.links(rec) : [];
    const slice = all.slice((page - 1) * first, page * first);
    const hasNextPage = page * first < all.length;
    const downloadLinks: Record<string, unknown> = { edges: slice.map((link) => ({ node: { link } })) };
    if (op.wantsPageInfo)
      downloadLinks.pageInfo = { hasNextPage, hasPreviousPage: page > 1, nextPage: hasNextPage ? page + 1 : null };
    if (op.wantsTotalCount) downloadLinks.totalCount = all.length;
    return { body: { data: { [op.partnerAlias]: { [op.fileAlias]: { status, downloadLinks } } } } };
  }

  private async download(req: SandboxRequest): Promise<SandboxResponse> {
    const rec = this.registry.reports.get(req.params.token);
    const n = Number(req.params.file.replace(/\.csv$/, ''));
    if (!rec || !Number.isInteger(n) || n < 1 || n > rec.files)
      return xmlError(404, 'NoSuchKey', 'The specified key does not exist.');
    if (req.query.get('sig') !== this.sign(rec.token, n)) return xmlError(403, 'AccessDenied', 'Access Denied');
    if (this.registry.status(rec, await this.clock.now()) !== 'FINISHED')
      return xmlError(404, 'NoSuchKey', 'The specified key does not exist.');
    const plan = planReport(this.catalog, this.seed, rec.input);
    const from = (n - 1) * rec.rowsPerFile;
    const to = Math.min(n * rec.rowsPerFile, rec.rows);
    this.note({ reportToken: fingerprint(rec.token), file: n, rows: Math.max(0, to - from) });
    req.truth('report-file', {
      reportToken: fingerprint(rec.token),
      account: rec.account,
      askedAt: rec.askedAt,
      ...reportConfiguration(rec.input),
      file: n,
      files: rec.files,
      rowsPerDay: rowsPerDay(plan, from, to),
    });
    return {
      headers: {
        'content-type': 'text/csv; charset=utf-8',
        'content-disposition': `attachment; filename="report_${n}.csv"`,
      },
      body: csvStream(
        plan.header,
        this.formatted(plan.header.length - rec.input.metrics.length, reportRows(plan, from, to)),
        {
          bom: this.bom,
        },
      ),
    };
  }

  /** The rows as served: metric fields (from index `firstMetric`) with thousands separators if configured. */
  private *formatted(firstMetric: number, rows: Iterable<string[]>): Generator<string[]> {
    if (!this.thousandsSeparator) return yield* rows;
    for (const row of rows) yield row.map((v, i) => (i >= firstMetric ? withThousands(v) : v));
  }

  private sign(token: string, n: number): string {
    return createHmac('sha256', this.linkKey).update(`${token}/${n}`).digest('hex').slice(0, 32);
  }

  private registerDailymotionAdmin(): void {
    const base = '/__sandbox/dailymotion';
    this.route('GET', `${base}/settings`, 'admin', () => ({ body: this.settings() }));
    this.route('POST', `${base}/settings`, 'admin', (req) => ({ body: this.configure(req.json<Partial<Settings>>()) }));
    this.route('POST', `${base}/fail-next`, 'admin', (req) => {
      this.failNextAsks(req.json<{ n?: number }>().n ?? 1);
      return { status: 204 };
    });
    this.route('POST', `${base}/reports/:token/expire`, 'admin', async (req) =>
      (await this.expireReport(req.params.token))
        ? { status: 204 }
        : { status: 404, body: { error: 'unknown report token' } },
    );
    this.route('POST', `${base}/tokens/expire`, 'admin', async () => {
      await this.expireTokens();
      return { status: 204 };
    });
    this.route('GET', `${base}/asks`, 'admin', async () => ({
      body: {
        accepted: await this.asks(),
        refused: this.refusedAsks(),
        maxConcurrentGenerating: this.maxConcurrentGenerating(),
        limit: this.registry.settings.maxConcurrent,
      },
    }));
    const page = (req: SandboxRequest) => ({
      offset: req.query.has('offset') ? Number(req.query.get('offset')) : undefined,
      limit: Number(req.query.get('limit') ?? 10_000),
    });
    this.route('POST', `${base}/expected`, 'admin', (req) => {
      const b = req.json<{ input: AskReportInput; offset?: number; limit?: number }>();
      return { body: this.expectedRows(b.input, { offset: b.offset, limit: b.limit ?? 10_000 }) };
    });
    this.route('GET', `${base}/reports/:token/expected`, 'admin', (req) => ({
      body: this.expectedRows(req.params.token, page(req)),
    }));
  }
}

/**
 * What identifies a report configuration (everything but its dates, as canonical JSON) and its window:
 * the truth of a download is filed under these.
 */
export function reportConfiguration(input: AskReportInput): { configuration: string; window: string } {
  const { startDate, endDate, ...rest } = input;
  const canon = (v: unknown): unknown =>
    Array.isArray(v)
      ? v.map(canon)
      : v && typeof v === 'object'
        ? Object.fromEntries(
            Object.keys(v)
              .filter((k) => (v as Record<string, unknown>)[k] !== undefined)
              .sort()
              .map((k) => [k, canon((v as Record<string, unknown>)[k])]),
          )
        : v;
  return { configuration: JSON.stringify(canon(rest)), window: `${startDate}..${endDate}` };
}

/**
 * Rows [from, to) of a planned report counted by UTC day of their time bucket (a report without a DAY, HOUR
 * or MINUTE dimension counts them under `window`).
 */
export function rowsPerDay(plan: ReportPlan, from: number, to: number): Record<string, number> {
  const out: Record<string, number> = {};
  const daily = plan.finest === 'DAY' || plan.finest === 'HOUR' || plan.finest === 'MINUTE';
  const end = Math.min(to, plan.total);
  if (plan.combos === 0 || end <= from) return out;
  for (let b = Math.floor(from / plan.combos); b * plan.combos < end; b++) {
    const n = Math.min(end, (b + 1) * plan.combos) - Math.max(from, b * plan.combos);
    const label = daily ? timeLabel('DAY', plan.bucketStarts[b]) : 'window';
    out[label] = (out[label] ?? 0) + n;
  }
  return out;
}

/** Injected faults answer in a shape both parsers read: OAuth2 (`error`) and GraphQL (`errors`). */
function faultBody(status: number): object {
  const [error, message] =
    status === 401
      ? ['invalid_token', 'The access token is invalid']
      : status === 429
        ? ['rate_limit_exceeded', 'Too many requests, slow down']
        : ['server_error', 'Internal server error'];
  return { error, error_description: message, errors: [{ message }] };
}

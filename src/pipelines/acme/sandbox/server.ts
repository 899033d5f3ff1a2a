/**
 * The Acme Ads reporting API sandbox, following the contract in ../README.md (a fictional API: the worked
 * example of docs/extending.md). Reports are made in the background on the sandbox clock: QUEUED, PROCESSING,
 * then COMPLETED with gzipped CSV parts (or FAILED, when a test asks), and EXPIRED `fileTtlMs` after. The API
 * enforces its limits itself: 60 report calls per minute per token (429 + Retry-After), at most 2 reports
 * generating per token (429 `too_many_reports`), and an `Idempotency-Key` that gives back the same report.
 * The data is a seeded function of (day, campaign, attribution) — `rowsFor` — which tests compare with.
 */
import { createHash } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import { HttpError, SandboxServer, type SandboxRequest } from '../../../sandbox/server';

export const ACME_DEMO_TOKEN = 'acme-demo-token';
const ATTRIBUTIONS = ['1d', '7d', '28d'];
const DAY_MS = 86_400_000;

export interface AcmeRow {
  day: string;
  campaign_id: string;
  attribution: string;
  impressions: number;
  clicks: number;
  spend: number;
}

export interface AcmeSandboxOptions {
  seed?: number;
  campaigns?: number;
  /** How long a report takes from creation to COMPLETED (sandbox clock). */
  generationMs?: number;
  /** How long a completed report's files stay downloadable. */
  fileTtlMs?: number;
  rowsPerFile?: number;
  perMinute?: number;
  maxGenerating?: number;
  tokens?: string[];
}

interface Report {
  id: string;
  token: string;
  key?: string;
  body: string;
  start: string;
  end: string;
  attribution: string;
  createdAt: number;
  fail: boolean;
}

export class AcmeSandbox extends SandboxServer {
  readonly reports = new Map<string, Report>();
  /** Most reports generating at once for one token, as the API counted them. */
  peakGenerating = 0;
  private readonly calls = new Map<string, number[]>();
  private failNext = 0;
  private readonly o: Required<Omit<AcmeSandboxOptions, 'seed'>> & { seed: number };

  constructor(opts: AcmeSandboxOptions = {}) {
    super('acme', { seed: opts.seed, errorBody: (s) => ({ error: { code: `http_${s}`, message: 'injected' } }) });
    this.o = {
      seed: opts.seed ?? 1,
      campaigns: opts.campaigns ?? 12,
      generationMs: opts.generationMs ?? 20_000,
      fileTtlMs: opts.fileTtlMs ?? 3_600_000,
      rowsPerFile: opts.rowsPerFile ?? 500,
      perMinute: opts.perMinute ?? 60,
      maxGenerating: opts.maxGenerating ?? 2,
      tokens: [...(opts.tokens ?? [ACME_DEMO_TOKEN])],
    };
    this.route('POST', '/v1/reports', 'create', (req) => this.create(req));
    this.route('GET', '/v1/reports/:id', 'status', (req) => this.status(req));
    this.route('GET', '/v1/files/:id/:part', 'file', (req) => this.file(req));
    this.route('POST', '/__sandbox/acme/fail-reports', 'admin', (req) => {
      this.failNext += req.json<{ count: number }>().count;
      return { body: { failNext: this.failNext } };
    });
  }

  /** Accepts another bearer token (another account: its own limits). */
  addToken(token: string): void {
    this.o.tokens.push(token);
  }

  /** The next `count` reports created end FAILED. */
  failReports(count: number): void {
    this.failNext += count;
  }

  /** The rows the API serves for [start, end] and an attribution window: the truth tests compare with. */
  rowsFor(start: string, end: string, attribution: string): AcmeRow[] {
    const out: AcmeRow[] = [];
    for (let t = Date.parse(`${start}T00:00:00Z`); t <= Date.parse(`${end}T00:00:00Z`); t += DAY_MS) {
      const day = new Date(t).toISOString().slice(0, 10);
      for (let c = 1; c <= this.o.campaigns; c++) {
        const h = createHash('sha256').update(`${this.o.seed}|${day}|${c}|${attribution}`).digest();
        const impressions = h.readUInt32BE(0) % 100_000;
        const clicks = impressions ? h.readUInt32BE(4) % Math.ceil(impressions / 20) : 0;
        out.push({
          day,
          campaign_id: `cmp-${String(c).padStart(4, '0')}`,
          attribution,
          impressions,
          clicks,
          spend: Math.round(clicks * (h.readUInt16BE(8) % 300)) / 100,
        });
      }
    }
    return out;
  }

  private async auth(req: SandboxRequest, counted: boolean): Promise<string> {
    const m = /^Bearer (.+)$/.exec(String(req.headers.authorization ?? ''));
    if (!m || !this.o.tokens.includes(m[1]))
      throw new HttpError(401, { error: { code: 'unauthorized', message: 'missing or unknown bearer token' } });
    if (counted) {
      const now = await this.clock.now();
      const recent = (this.calls.get(m[1]) ?? []).filter((t) => t > now - 60_000);
      if (recent.length >= this.o.perMinute) {
        const retry = Math.max(1, Math.ceil((recent[0] + 60_000 - now) / 1000));
        this.note({ limited: 'minute' });
        throw new HttpError(
          429,
          { error: { code: 'rate_limited', message: `more than ${this.o.perMinute} requests in 60 seconds` } },
          { 'retry-after': String(retry) },
        );
      }
      recent.push(now);
      this.calls.set(m[1], recent);
    }
    return m[1];
  }

  private stateOf(r: Report, now: number): 'QUEUED' | 'PROCESSING' | 'COMPLETED' | 'FAILED' | 'EXPIRED' {
    const age = now - r.createdAt;
    if (age < this.o.generationMs * 0.1) return 'QUEUED';
    if (age < this.o.generationMs) return 'PROCESSING';
    if (r.fail) return 'FAILED';
    return age < this.o.generationMs + this.o.fileTtlMs ? 'COMPLETED' : 'EXPIRED';
  }

  private generating(token: string, now: number): number {
    return [...this.reports.values()].filter((r) => r.token === token && now - r.createdAt < this.o.generationMs)
      .length;
  }

  private async create(req: SandboxRequest) {
    const token = await this.auth(req, true);
    const now = await this.clock.now();
    const b = req.json<{ date_range?: { start?: string; end?: string }; attribution_window?: string }>();
    const start = b.date_range?.start ?? '';
    const end = b.date_range?.end ?? '';
    const valid = /^\d{4}-\d{2}-\d{2}$/;
    if (!valid.test(start) || !valid.test(end) || start > end)
      throw new HttpError(400, {
        error: { code: 'invalid_date_range', message: 'date_range.start ≤ end, YYYY-MM-DD' },
      });
    const attribution = b.attribution_window ?? '7d';
    if (!ATTRIBUTIONS.includes(attribution))
      throw new HttpError(400, { error: { code: 'invalid_attribution_window', message: ATTRIBUTIONS.join(', ') } });
    const key = req.headers['idempotency-key'] as string | undefined;
    const body = JSON.stringify({ start, end, attribution });
    const same = key ? [...this.reports.values()].find((r) => r.token === token && r.key === key) : undefined;
    if (same) {
      if (same.body !== body)
        throw new HttpError(422, { error: { code: 'idempotency_key_reused', message: 'another body' } });
      this.note({ report: same.id, replay: true });
      return { status: 200, body: { report: { id: same.id, status: this.stateOf(same, now) } } };
    }
    if (this.generating(token, now) >= this.o.maxGenerating) {
      this.note({ limited: 'reports' });
      throw new HttpError(
        429,
        { error: { code: 'too_many_reports', message: `at most ${this.o.maxGenerating} reports generating` } },
        { 'retry-after': '30' },
      );
    }
    const id = `rep_${createHash('sha256').update(`${this.o.seed}|${this.reports.size}|${body}`).digest('hex').slice(0, 12)}`;
    const fail = this.failNext > 0;
    if (fail) this.failNext--;
    this.reports.set(id, { id, token, key, body, start, end, attribution, createdAt: now, fail });
    this.peakGenerating = Math.max(this.peakGenerating, this.generating(token, now));
    this.note({ report: id });
    req.truth('report-created', { id, start, end, attribution });
    return { status: 201, body: { report: { id, status: 'QUEUED' } } };
  }

  private report(req: SandboxRequest, token: string): Report {
    const r = this.reports.get(req.params.id);
    if (!r || r.token !== token) throw new HttpError(404, { error: { code: 'not_found', message: 'no such report' } });
    return r;
  }

  private parts(r: Report): number {
    return Math.max(1, Math.ceil(this.rowsFor(r.start, r.end, r.attribution).length / this.o.rowsPerFile));
  }

  private async status(req: SandboxRequest) {
    const token = await this.auth(req, true);
    const r = this.report(req, token);
    const state = this.stateOf(r, await this.clock.now());
    const files =
      state === 'COMPLETED'
        ? Array.from({ length: this.parts(r) }, (_, i) => ({ url: `/v1/files/${r.id}/${i + 1}.csv.gz` }))
        : undefined;
    return {
      body: {
        report: {
          id: r.id,
          status: state,
          ...(files ? { files } : {}),
          ...(state === 'FAILED' ? { failure_reason: 'the report could not be generated' } : {}),
        },
      },
    };
  }

  private async file(req: SandboxRequest) {
    const token = await this.auth(req, false);
    const r = this.report(req, token);
    const state = this.stateOf(r, await this.clock.now());
    if (state === 'EXPIRED') throw new HttpError(410, { error: { code: 'expired', message: 'the report expired' } });
    if (state !== 'COMPLETED') throw new HttpError(404, { error: { code: 'not_ready', message: state } });
    const part = Number(/^(\d+)\.csv\.gz$/.exec(req.params.part)?.[1] ?? NaN);
    if (!(part >= 1 && part <= this.parts(r)))
      throw new HttpError(404, { error: { code: 'not_found', message: 'no such file' } });
    const rows = this.rowsFor(r.start, r.end, r.attribution).slice(
      (part - 1) * this.o.rowsPerFile,
      part * this.o.rowsPerFile,
    );
    const csv = ['day,campaign_id,attribution,impressions,clicks,spend']
      .concat(rows.map((x) => `${x.day},${x.campaign_id},${x.attribution},${x.impressions},${x.clicks},${x.spend}`))
      .join('\r\n');
    req.truth('rows-served', { report: r.id, part, rows });
    return { headers: { 'content-type': 'application/gzip' }, body: gzipSync(`${csv}\r\n`) };
  }
}

/**
 * The Titelive / ePagine API sandbox: `POST /v1/login/{username}/token` → `{token}` (a JWT valid 5
 * minutes on the sandbox clock; an expired or unknown token → 401), and `GET /v1/search` with the real
 * parameters (base, dateminm/datemaxm DD/MM/YYYY, nombre, page from 1, tri/tri_ordre, dispo) and
 * envelope (`result` as a list or an object keyed "0", "1"…, `{}` when empty; `nbreponses` = all
 * matches; no result past the 20,000th). The API's measured rate (api-contracts.md: bursts near 70 requests/s for
 * ~2,000 requests, ~30/s sustained, 429 beyond, no rate-limit headers) is modelled as two limits on every API
 * request: at most `peakPerSecond` in any second, and a reserve of `reserve` requests refilled at
 * `sustainedPerSecond` (70, 30 and 1,200: at 70/s the reserve lasts ~30 s, ~2,100 requests); beyond either, a
 * 429 without Retry-After. An image host runs beside it (see images.ts). Beyond the
 * framework's fault injection, `failPage()` makes one page answer a given status (a 429 with
 * Retry-After, a 500…) so tests can break an extraction at a chosen page.
 */
import { createHash, createHmac } from 'node:crypto';
import { HttpError, SandboxServer, type SandboxRequest } from '../../../sandbox/server';
import {
  generateCatalog,
  lastModified,
  renderItem,
  type Base,
  type CatalogOptions,
  type CatalogProduct,
} from './catalog';
import { ImageHost, type ImageHostOptions } from './images';

export const TITELIVE_DEMO_USER = 'longhaul-demo';
export const TITELIVE_DEMO_PASSWORD = 'demo-password';
export const TOKEN_LIFETIME_MS = 5 * 60_000;

export interface TiteliveSandboxOptions {
  seed?: number;
  catalog?: Omit<CatalogOptions, 'seed'>;
  images?: Omit<ImageHostOptions, 'seed'>;
  /** The cap on results per query (20,000 on the real API). */
  maxResults?: number;
  username?: string;
  password?: string;
  /** The API's rate (defaults: the measured one, above); false: none. */
  rate?: Partial<TiteliveRate> | false;
}

export interface TiteliveRate {
  peakPerSecond: number;
  sustainedPerSecond: number;
  reserve: number;
}

export const MEASURED_RATE: TiteliveRate = { peakPerSecond: 70, sustainedPerSecond: 30, reserve: 1_200 };

interface PageFault {
  page: number;
  status: number;
  times: number;
  retryAfterSec?: number;
}

const B64 = (o: object) => Buffer.from(JSON.stringify(o)).toString('base64url');

function parseDmy(v: string | null, name: string): string | undefined {
  if (v === null || v === '') return undefined;
  const m = /^(\d{2})\/(\d{2})\/(\d{4})$/.exec(v);
  if (!m) throw new HttpError(400, { error: `Paramètre ${name} invalide : ${v} (JJ/MM/AAAA attendu)` });
  return `${m[3]}-${m[2]}-${m[1]}`;
}

export class TiteliveSandbox extends SandboxServer {
  readonly images: ImageHost;
  readonly catalog: CatalogProduct[];
  readonly maxResults: number;
  private readonly tokens = new Map<string, { exp: number; jti: number }>();
  private readonly pageFaults: PageFault[] = [];
  private issued = 0;
  private readonly secret: string;
  /** The rate model (undefined: none), and its state: admitted requests of the last second, the reserve. */
  readonly rate: TiteliveRate | undefined;
  private readonly lastSecond: number[] = [];
  private reserveLeft = 0;
  private reserveAt = 0;
  /** Requests refused by the rate model. */
  rateLimited = 0;

  constructor(private readonly o: TiteliveSandboxOptions = {}) {
    super('titelive', {
      seed: o.seed,
      errorBody: (s) => ({ error: s === 401 ? 'Unauthorized' : 'Erreur serveur', code: s }),
    });
    this.catalog = generateCatalog({ seed: o.seed, ...o.catalog });
    this.images = new ImageHost({ seed: o.seed, ...o.images });
    this.images.clock.follow(() => this.clock.now());
    this.maxResults = o.maxResults ?? 20_000;
    this.rate = o.rate === false ? undefined : { ...MEASURED_RATE, ...o.rate };
    this.reserveLeft = this.rate?.reserve ?? 0;
    this.secret = createHash('sha256')
      .update(`titelive-${o.seed ?? 1}`)
      .digest('hex');
    this.route('POST', '/v1/login/:username/token', 'login', (req) => this.login(req));
    this.route('GET', '/v1/search', 'search', (req) => this.search(req));
    this.route('POST', '/__sandbox/titelive/touch', 'admin', async (req) => {
      const b = req.json<{ ids: number[]; date?: string }>();
      return { body: { touched: await this.touch(b.ids, b.date) } };
    });
    this.route('POST', '/__sandbox/titelive/page-faults', 'admin', (req) => {
      const b = req.json<PageFault>();
      this.failPage(b.page, b.status, b.times, b.retryAfterSec);
      return { status: 204 };
    });
  }

  override async start(port = 0, host = '127.0.0.1'): Promise<string> {
    await this.images.start(port === 0 ? 0 : port + 10, host);
    const url = await super.start(port, host);
    TiteliveSandbox.byUrl.set(url, this);
    return url;
  }

  /** Running sandboxes by API URL (the registry's `env` finds the image host's URL here). */
  static readonly byUrl = new Map<string, TiteliveSandbox>();

  override async stop(): Promise<void> {
    TiteliveSandbox.byUrl.delete(this.url);
    await Promise.all([super.stop(), this.images.stop()]);
  }

  /** The sandbox's "today" (UTC, YYYY-MM-DD). */
  async today(): Promise<string> {
    return new Date(await this.clock.now()).toISOString().slice(0, 10);
  }

  /** Marks products as modified on `date` (default: the sandbox's today) — their first article changes. */
  async touch(ids: number[], date?: string): Promise<number> {
    const day = date ?? (await this.today());
    let n = 0;
    for (const p of this.catalog)
      if (ids.includes(p.id)) {
        p.articles[0].modified = day;
        n++;
      }
    return n;
  }

  /** The next `times` requests for `page` answer `status` (429 with Retry-After when given). */
  failPage(page: number, status: number, times = 1, retryAfterSec?: number): void {
    this.pageFaults.push({ page, status, times, retryAfterSec });
  }

  /** Products matching a search, in the order the search returns them. */
  matches(base: Base, dateMin?: string, dateMax?: string, dispo?: number): CatalogProduct[] {
    return this.catalog
      .filter(
        (p) =>
          p.base === base &&
          p.articles.some(
            (a) =>
              (!dateMin || a.modified >= dateMin) &&
              (!dateMax || a.modified <= dateMax) &&
              (dispo === undefined || a.dispo === dispo),
          ),
      )
      .sort((a, b) => lastModified(a).localeCompare(lastModified(b)) || a.id - b.id);
  }

  /** The rate model: admits this request, or answers 429 (no Retry-After, like the API). */
  private async admit(): Promise<void> {
    const r = this.rate;
    if (!r) return;
    const now = await this.clock.now();
    while (this.lastSecond.length && this.lastSecond[0] <= now - 1000) this.lastSecond.shift();
    if (this.reserveAt === 0) this.reserveAt = now;
    this.reserveLeft = Math.min(r.reserve, this.reserveLeft + ((now - this.reserveAt) * r.sustainedPerSecond) / 1000);
    this.reserveAt = Math.max(this.reserveAt, now);
    if (this.lastSecond.length >= r.peakPerSecond || this.reserveLeft < 1) {
      this.rateLimited++;
      this.note({ rateLimited: this.lastSecond.length >= r.peakPerSecond ? 'peak' : 'sustained' });
      throw new HttpError(429, { error: 'Too Many Requests', code: 429 });
    }
    this.lastSecond.push(now);
    this.reserveLeft -= 1;
  }

  private async login(req: SandboxRequest) {
    await this.admit();
    const { password } = req.json<{ password?: string }>();
    if (
      req.params.username !== (this.o.username ?? TITELIVE_DEMO_USER) ||
      password !== (this.o.password ?? TITELIVE_DEMO_PASSWORD)
    )
      throw new HttpError(401, { error: 'Identifiants invalides' });
    const iat = await this.clock.now();
    const jti = ++this.issued;
    const head = `${B64({ alg: 'HS256', typ: 'JWT' })}.${B64({ sub: req.params.username, iat: Math.floor(iat / 1000), exp: Math.floor((iat + TOKEN_LIFETIME_MS) / 1000), jti })}`;
    const token = `${head}.${createHmac('sha256', this.secret).update(head).digest('base64url')}`;
    this.tokens.set(token, { exp: iat + TOKEN_LIFETIME_MS, jti });
    this.note({ jti });
    return { body: { token } };
  }

  private async search(req: SandboxRequest) {
    await this.admit();
    const auth = /^Bearer (.+)$/.exec(req.headers.authorization ?? '')?.[1];
    const tok = auth ? this.tokens.get(auth) : undefined;
    const now = await this.clock.now();
    const page = Number(req.query.get('page') ?? 1);
    this.note({ page });
    if (!tok) throw new HttpError(401, { error: 'Unauthorized', message: 'Jeton absent ou invalide' });
    this.note({ jti: tok.jti });
    if (now >= tok.exp) {
      this.note({ expired: true });
      throw new HttpError(401, { error: 'Unauthorized', message: 'Expired token' });
    }
    const q = req.query;
    const base = q.get('base');
    if (base !== 'paper' && base !== 'music') throw new HttpError(400, { error: `base inconnue : ${base}` });
    const perPage = Number(q.get('nombre') ?? 10);
    if (!Number.isInteger(perPage) || perPage < 1 || perPage > 1000)
      throw new HttpError(400, { error: 'nombre invalide' });
    if (!Number.isInteger(page) || page < 1) throw new HttpError(400, { error: 'page invalide' });
    const fault = this.pageFaults.find((f) => f.page === page && f.times > 0);
    if (fault) {
      fault.times--;
      this.note({ injected: fault.status });
      throw new HttpError(
        fault.status,
        { error: fault.status === 429 ? 'Too Many Requests' : 'Erreur serveur' },
        fault.retryAfterSec !== undefined ? { 'retry-after': String(fault.retryAfterSec) } : {},
      );
    }
    const dateMin = parseDmy(q.get('dateminm'), 'dateminm');
    const dateMax = parseDmy(q.get('datemaxm'), 'datemaxm');
    const dispoParam = q.get('dispo');
    const dispo = dispoParam === null || dispoParam === '' ? undefined : Number(dispoParam);
    let all = this.matches(base, dateMin, dateMax, dispo);
    this.note({ nbreponses: all.length, ...(dispo === undefined ? {} : { dispo }) });
    if (q.get('tri_ordre') === 'desc') all = all.reverse();
    const start = (page - 1) * perPage;
    const end = Math.min(start + perPage, this.maxResults);
    const products = start < end ? all.slice(start, end) : [];
    const items = products.map(renderItem);
    req.truth('search', {
      base,
      dateMin,
      dateMax,
      ...(dispo === undefined ? {} : { dispo }),
      page,
      perPage,
      products: products.map((p) => ({ id: p.id, modified: lastModified(p) })),
    });
    // Like the real API, `result` sometimes comes as an object keyed "0", "1"… (always `{}` when empty).
    const keyed = items.length === 0 || page % 3 === 0;
    const result = keyed ? Object.fromEntries(items.map((it, i) => [String(i), it])) : items;
    return {
      body: {
        type: base === 'music' ? 4 : 1,
        magid: '6505',
        nombre: items.length,
        page: String(page),
        result,
        suggestions: [],
        nbreponses: all.length,
        temps: 0.05,
        tri_ordre: q.get('tri_ordre') ?? 'desc',
        params: Object.fromEntries(q.entries()),
        changeEncodingTo: 'UTF-8',
      },
    };
  }
}

/**
 * A tiny HTTP framework for API sandboxes: routes, a controllable clock, seeded fault injection, a log
 * of every call, counts of open connections, a record of the truth (what each answer served, what each
 * call applied), and an admin API under `/__sandbox/` so a test in another process can drive it (clock,
 * faults) and read it (log, state, truth).
 */
import http from 'node:http';
import https from 'node:https';
import { sandboxCertificate } from './tls';
import type { AddressInfo, Socket } from 'node:net';
import { Readable } from 'node:stream';
import { SandboxClock } from './clock';
import { FaultInjector, type FaultKind, type FaultRule } from './faults';

export interface SandboxRequest {
  method: string;
  path: string;
  query: URLSearchParams;
  headers: http.IncomingHttpHeaders;
  params: Record<string, string>;
  body: Buffer;
  json<T = unknown>(): T;
  form(): URLSearchParams;
  /**
   * Records a fact of the truth for this request (what the answer serves, what the call applied), tied to
   * its log entry, so whether the client really received it is known (see TruthRecord.delivered). Safe to
   * call after awaits (unlike `note()`).
   */
  truth(kind: string, data: Record<string, unknown>): void;
}

/**
 * One fact of a sandbox's truth: what an answer served (rows, IDs, products, images) or what a call applied
 * (a Datorama action). Recording only: it never changes what the sandbox answers.
 */
export interface TruthRecord {
  /** The request's log entry. */
  seq: number;
  route: string;
  kind: string;
  data: Record<string, unknown>;
  /**
   * The answer reached the client whole: a 2xx status, written out to the end, and no injected fault that
   * spoils the body (malformed, truncated). A call can be applied without its answer being delivered.
   */
  delivered: boolean;
}

export interface SandboxResponse {
  status?: number;
  headers?: Record<string, string>;
  /** An object is sent as JSON. */
  body?: string | Buffer | Readable | object;
}

export type Handler = (req: SandboxRequest) => SandboxResponse | Promise<SandboxResponse>;

export interface LogEntry {
  seq: number;
  /** Sandbox-clock time of the request (epoch ms). */
  at: number;
  method: string;
  path: string;
  route: string;
  status: number;
  fault?: FaultKind;
  /** The whole answer was written out (set when the response finishes). */
  finished?: boolean;
  /** Free-form facts a sandbox records (token fingerprint, ids…). */
  meta?: Record<string, unknown>;
}

interface Route {
  method: string;
  regex: RegExp;
  keys: string[];
  name: string;
  handler: Handler;
}

export class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly body: object | string,
    readonly headers: Record<string, string> = {},
  ) {
    super(typeof body === 'string' ? body : JSON.stringify(body));
  }
}

export interface SandboxOptions {
  seed?: number;
  clock?: SandboxClock;
  /** The body the API sends for an injected fault of this status (each API has its own error shape). */
  errorBody?: (status: number, kind: FaultKind) => object | string;
  /**
   * Serve HTTPS (a self-signed certificate: `certificate()` gives it to clients as their CA). `handshakeMs`
   * is a distant host's connection setup (TCP and TLS round trips), added before the first answer on each
   * new connection: what a client that opens a connection per request pays every time.
   */
  tls?: { handshakeMs?: number };
}

export class SandboxServer {
  readonly clock: SandboxClock;
  readonly faults: FaultInjector;
  readonly log: LogEntry[] = [];
  private readonly truthRecords: { entry: LogEntry; kind: string; data: Record<string, unknown> }[] = [];
  private readonly routes: Route[] = [];
  private server?: http.Server;
  private readonly sockets = new Set<Socket>();
  openConnections = 0;
  peakConnections = 0;
  totalConnections = 0;
  url = '';

  constructor(
    readonly name: string,
    private readonly opts: SandboxOptions = {},
  ) {
    this.clock = opts.clock ?? new SandboxClock();
    this.faults = new FaultInjector(opts.seed ?? 1);
    this.registerAdmin();
  }

  route(method: string, pattern: string, name: string, handler: Handler): this {
    const keys: string[] = [];
    const src = pattern.replace(/[.+?^${}()|[\]\\]/g, '\\$&').replace(/:(\w+)/g, (_, k: string) => {
      keys.push(k);
      return '([^/]+)';
    });
    this.routes.push({ method, regex: new RegExp(`^${src}/?$`), keys, name, handler });
    return this;
  }

  /** Records extra facts on the current log entry (call from a handler). */
  private current?: LogEntry;
  note(meta: Record<string, unknown>): void {
    if (this.current) this.current.meta = { ...this.current.meta, ...meta };
  }

  /** The truth recorded so far (optionally of one kind), with whether each answer was delivered. */
  truth(kind?: string): TruthRecord[] {
    return this.truthRecords
      .filter((r) => kind === undefined || r.kind === kind)
      .map(({ entry, kind: k, data }) => ({
        seq: entry.seq,
        route: entry.route,
        kind: k,
        data,
        delivered:
          entry.finished === true &&
          entry.status >= 200 &&
          entry.status < 300 &&
          entry.fault !== 'malformed' &&
          entry.fault !== 'truncated',
      }));
  }

  /** The certificate a TLS sandbox serves (for clients to trust), once started. */
  certificate?: string;
  /** Connections whose setup cost was paid (TLS mode). */
  private readonly setUp = new WeakSet<object>();

  async start(port = 0, host = '127.0.0.1'): Promise<string> {
    const handler = (req: http.IncomingMessage, res: http.ServerResponse) => void this.handle(req, res);
    if (this.opts.tls) {
      const { key, cert } = await sandboxCertificate();
      this.certificate = cert;
      this.server = https.createServer({ key, cert }, handler);
    } else this.server = http.createServer(handler);
    this.server.keepAliveTimeout = 5000;
    this.server.on('connection', (s: Socket) => {
      this.sockets.add(s);
      this.totalConnections++;
      this.openConnections++;
      this.peakConnections = Math.max(this.peakConnections, this.openConnections);
      s.on('close', () => {
        this.sockets.delete(s);
        this.openConnections--;
      });
    });
    await new Promise<void>((resolve, reject) => {
      this.server!.once('error', reject);
      this.server!.listen(port, host, () => resolve());
    });
    const addr = this.server.address() as AddressInfo;
    this.url = `${this.opts.tls ? 'https' : 'http'}://${host}:${addr.port}`;
    return this.url;
  }

  async stop(): Promise<void> {
    if (!this.server) return;
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((r) => this.server!.close(() => r()));
    this.server = undefined;
  }

  private async handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const handshakeMs = this.opts.tls?.handshakeMs ?? 0;
    if (handshakeMs > 0 && !this.setUp.has(req.socket)) {
      this.setUp.add(req.socket);
      await new Promise((r) => setTimeout(r, handshakeMs));
    }
    const url = new URL(req.url ?? '/', 'http://sandbox');
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const body = Buffer.concat(chunks);
    const method = req.method ?? 'GET';
    let match: { route: Route; params: Record<string, string> } | undefined;
    for (const route of this.routes) {
      if (route.method !== method) continue;
      const m = route.regex.exec(url.pathname);
      if (m) {
        const params: Record<string, string> = {};
        route.keys.forEach((k, i) => (params[k] = decodeURIComponent(m[i + 1])));
        match = { route, params };
        break;
      }
    }
    const entry: LogEntry = {
      seq: this.log.length + 1,
      at: await this.clock.now(),
      method,
      path: url.pathname,
      route: match?.route.name ?? 'unknown',
      status: 0,
    };
    const isAdmin = url.pathname.startsWith('/__sandbox/');
    if (!isAdmin) this.log.push(entry);
    if (!match) return this.send(res, entry, { status: 404, body: { error: 'not_found', path: url.pathname } });

    const fault = isAdmin ? undefined : this.faults.pick(match.route.name);
    if (fault) {
      entry.fault = fault.kind;
      const handled = await this.applyFault(fault, res, entry);
      if (handled) return;
    }
    const sreq: SandboxRequest = {
      method,
      path: url.pathname,
      query: url.searchParams,
      headers: req.headers,
      params: match.params,
      body,
      json: <T>() => {
        try {
          return JSON.parse(body.toString('utf8')) as T;
        } catch {
          throw new HttpError(400, { error: 'invalid_json' });
        }
      },
      form: () => new URLSearchParams(body.toString('utf8')),
      truth: (kind, data) => void this.truthRecords.push({ entry, kind, data }),
    };
    let out: SandboxResponse;
    this.current = entry;
    try {
      out = await match.route.handler(sreq);
    } catch (err) {
      if (err instanceof HttpError) out = { status: err.status, body: err.body, headers: err.headers };
      else out = { status: 500, body: { error: 'internal', message: String(err) } };
    } finally {
      this.current = undefined;
    }
    if (fault?.kind === 'truncated') return this.sendTruncated(res, entry, out);
    if (fault?.kind === 'malformed') {
      out = { status: 200, headers: { 'content-type': 'application/json' }, body: '{"data": {"partial": tr' };
    }
    return this.send(res, entry, out);
  }

  private async applyFault(f: FaultRule, res: http.ServerResponse, entry: LogEntry): Promise<boolean> {
    const errorBody = (status: number) => this.opts.errorBody?.(status, f.kind) ?? { error: `injected ${f.kind}` };
    switch (f.kind) {
      case '429':
        this.send(res, entry, {
          status: 429,
          headers: { 'retry-after': String(f.retryAfterSec) },
          body: errorBody(429),
        });
        return true;
      case '500':
      case '502':
      case '503':
      case '401':
      case '403':
      case '404':
        this.send(res, entry, { status: Number(f.kind), body: errorBody(Number(f.kind)) });
        return true;
      case 'reset':
        entry.status = -1;
        res.socket?.destroy();
        return true;
      case 'timeout':
      case 'slow':
        await new Promise((r) => setTimeout(r, f.delayMs));
        if (f.kind === 'timeout') {
          entry.status = -1;
          res.socket?.destroy();
          return true;
        }
        return false;
      default:
        return false;
    }
  }

  private send(res: http.ServerResponse, entry: LogEntry, out: SandboxResponse): void {
    const status = out.status ?? 200;
    entry.status = status;
    const headers = { ...out.headers };
    let body = out.body;
    if (body !== undefined && !(typeof body === 'string') && !Buffer.isBuffer(body) && !(body instanceof Readable)) {
      body = JSON.stringify(body);
      headers['content-type'] ??= 'application/json; charset=utf-8';
    }
    res.writeHead(status, headers);
    res.once('finish', () => (entry.finished = true));
    if (body instanceof Readable) {
      body.on('error', () => res.destroy());
      body.pipe(res);
    } else res.end(body);
  }

  private async sendTruncated(res: http.ServerResponse, entry: LogEntry, out: SandboxResponse): Promise<void> {
    let buf: Buffer;
    if (out.body instanceof Readable) {
      const parts: Buffer[] = [];
      for await (const c of out.body) parts.push(Buffer.from(c as Buffer));
      buf = Buffer.concat(parts);
    } else if (typeof out.body === 'string' || Buffer.isBuffer(out.body)) buf = Buffer.from(out.body);
    else buf = Buffer.from(JSON.stringify(out.body ?? ''));
    entry.status = out.status ?? 200;
    res.writeHead(entry.status, { ...out.headers, 'content-length': String(buf.length) });
    res.write(buf.subarray(0, Math.floor(buf.length / 2)));
    setTimeout(() => res.socket?.destroy(), 10);
  }

  private registerAdmin(): void {
    this.route('GET', '/__sandbox/log', 'admin', () => ({ body: this.log }));
    this.route('GET', '/__sandbox/state', 'admin', async () => ({
      body: {
        name: this.name,
        now: await this.clock.now(),
        faultsInjected: this.faults.injected,
        openConnections: this.openConnections,
        peakConnections: this.peakConnections,
        totalConnections: this.totalConnections,
        calls: this.log.length,
      },
    }));
    // What the sandbox served and applied (recorded by each API's handlers), for checks against the truth.
    this.route('GET', '/__sandbox/truth', 'admin', (req) => ({
      body: { name: this.name, records: this.truth(req.query.get('kind') ?? undefined) },
    }));
    this.route('POST', '/__sandbox/faults', 'admin', (req) => {
      const rules = req.json<unknown>();
      for (const r of Array.isArray(rules) ? rules : [rules]) this.faults.add(r as never);
      return { status: 204 };
    });
    this.route('DELETE', '/__sandbox/faults', 'admin', () => {
      this.faults.clear();
      return { status: 204 };
    });
    this.route('POST', '/__sandbox/clock', 'admin', async (req) => {
      const b = req.json<{ advanceMs?: number; setMs?: number }>();
      if (typeof b.advanceMs === 'number') this.clock.advance(b.advanceMs);
      if (typeof b.setMs === 'number') await this.clock.set(b.setMs);
      return { body: { now: await this.clock.now() } };
    });
  }
}

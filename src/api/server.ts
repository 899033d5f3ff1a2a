/**
 * The videos API (`longhaul api`): `GET /api/videos`, `GET /api/videos/:id`, `GET /openapi.json`,
 * `GET /healthz`, and the dashboard at `/` (static files in ./dashboard). `GET /api/youtubeVideos/` and
 * `/api/youtubeVideos/:id/` answer as the replaced Django REST Framework service did (`{count, next,
 * previous, results}`, page numbers), so its clients switch by changing the host. Plain `node:http`; every answer
 * is JSON except the dashboard's files. Reads only: the store is written by the youtube-watch worker.
 */
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { VideosStoreInputError, type StoredVideo, type VideosStore } from '../sinks/videos-store';
import { openApiDocument } from './openapi';
import { ParamError, parseListParams, parseVideoId, type ListRequest } from './params';

export interface ApiServerOptions {
  store: VideosStore;
  host?: string;
  /** 0 = any free port. */
  port?: number;
  /** Called with unexpected errors (a 500 answer); default: stderr. */
  onError?: (err: unknown) => void;
}

export interface ApiServer {
  url: string;
  close(): Promise<void>;
}

const DASHBOARD_DIR = path.join(__dirname, 'dashboard');
const ASSETS: Record<string, { file: string; type: string }> = {
  '/': { file: 'index.html', type: 'text/html; charset=utf-8' },
  '/index.html': { file: 'index.html', type: 'text/html; charset=utf-8' },
  '/dashboard.js': { file: 'dashboard.js', type: 'text/javascript; charset=utf-8' },
  '/dashboard.css': { file: 'dashboard.css', type: 'text/css; charset=utf-8' },
};
// Thumbnails come from the image host the store lists (https), or from a local sandbox (`longhaul dev`).
const CSP =
  "default-src 'self'; img-src 'self' https: data: http://127.0.0.1:* http://localhost:*; style-src 'self'; " +
  "script-src 'self'; base-uri 'none'";

class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly parameter?: string,
  ) {
    super(message);
  }
}

/** A listed video: everything but `raw` (served by `/api/videos/:id`). */
const listed = ({ raw: _raw, ...rest }: StoredVideo) => rest;

function send(res: http.ServerResponse, status: number, body: unknown, headers: http.OutgoingHttpHeaders = {}): void {
  const data = Buffer.from(JSON.stringify(body));
  res.writeHead(status, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': data.length,
    'cache-control': 'no-store',
    'x-content-type-options': 'nosniff',
    ...headers,
  });
  res.end(res.req.method === 'HEAD' ? undefined : data);
}

/** The replaced service's listing route (Django REST Framework's page-number pagination). */
const DRF_ROUTE = '/api/youtubeVideos';

/** The URL of another page of the same listing (on `route`). */
function link(
  base: string,
  req: ListRequest,
  at: { page: number } | { cursor: string },
  route = '/api/videos',
): string {
  const qs = new URLSearchParams();
  if (req.search !== undefined) qs.set('search', req.search);
  if (req.query !== undefined) qs.set('query', req.query);
  if (req.publishedAfter !== undefined) qs.set('publishedAfter', req.publishedAfter);
  if (req.publishedBefore !== undefined) qs.set('publishedBefore', req.publishedBefore);
  if (req.ordering !== '-publishedAt') qs.set('ordering', req.ordering);
  qs.set('pageSize', String(req.pageSize));
  if ('page' in at) qs.set('page', String(at.page));
  else qs.set('cursor', at.cursor);
  return `${base}${route}${route === DRF_ROUTE ? '/' : ''}?${qs.toString()}`;
}

export async function startApiServer(opts: ApiServerOptions): Promise<ApiServer> {
  const { store } = opts;
  const onError = opts.onError ?? ((e: unknown) => process.stderr.write(`api: ${String((e as Error)?.stack ?? e)}\n`));
  let ownUrl = '';
  // Links are absolute: on the host the client asked (when it is a plain host[:port]), else our own address.
  const baseOf = (req: http.IncomingMessage) =>
    req.headers.host && /^[A-Za-z0-9.-]+(:\d{1,5})?$|^\[[0-9A-Fa-f:.]+\](:\d{1,5})?$/.test(req.headers.host)
      ? `http://${req.headers.host}`
      : ownUrl;

  async function listVideos(req: http.IncomingMessage, qs: URLSearchParams): Promise<unknown> {
    const lr = parseListParams(qs);
    const r = await store.list(lr);
    const base = baseOf(req);
    if (lr.paging === 'page') {
      const page = lr.page!;
      return {
        items: r.items.map(listed),
        total: r.total,
        page,
        pageSize: lr.pageSize,
        next: r.nextCursor ? link(base, lr, { page: page + 1 }) : null,
        prev:
          page > 1 ? link(base, lr, { page: Math.min(page - 1, Math.max(1, Math.ceil(r.total / lr.pageSize))) }) : null,
      };
    }
    return {
      items: r.items.map(listed),
      total: r.total,
      ...(lr.cursor === undefined ? { page: 1 } : {}),
      pageSize: lr.pageSize,
      next: r.nextCursor ? link(base, lr, { cursor: r.nextCursor }) : null,
      prev: r.prevCursor ? link(base, lr, { cursor: r.prevCursor }) : null,
    };
  }

  /** The DRF-compatible listing: page numbers only (page 1 when none is given), `{count, next, previous, results}`. */
  async function listDrf(req: http.IncomingMessage, qs: URLSearchParams): Promise<unknown> {
    if (qs.has('cursor')) throw new ParamError('cursor', 'this route pages by number: use page (or /api/videos)');
    const numbered = new URLSearchParams(qs);
    if (!numbered.has('page')) numbered.set('page', '1');
    const lr = parseListParams(numbered);
    const r = await store.list(lr);
    const base = baseOf(req);
    const page = lr.page!;
    return {
      count: r.total,
      next: r.nextCursor ? link(base, lr, { page: page + 1 }, DRF_ROUTE) : null,
      previous:
        page > 1
          ? link(base, lr, { page: Math.min(page - 1, Math.max(1, Math.ceil(r.total / lr.pageSize))) }, DRF_ROUTE)
          : null,
      results: r.items.map(listed),
    };
  }

  /** One video by the id in a path (`/api/videos/:id`, `/api/youtubeVideos/:id/`), or 404. */
  async function oneVideo(url: URL, rest: string): Promise<StoredVideo> {
    for (const [k] of url.searchParams) throw new ParamError(k, 'unknown parameter (this route takes none)');
    let raw: string;
    try {
      raw = decodeURIComponent(rest);
    } catch {
      throw new ParamError('id', 'malformed percent-encoding');
    }
    const id = parseVideoId(raw);
    const video = await store.get(id);
    if (!video) throw new HttpError(404, `no video with id ${id}`, 'id');
    return video;
  }

  async function handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://localhost');
    if (req.method !== 'GET' && req.method !== 'HEAD')
      throw new HttpError(405, `${req.method} is not allowed; this API only reads`);
    const p = url.pathname;
    const asset = ASSETS[p];
    if (asset) {
      const data = await fs.promises.readFile(path.join(DASHBOARD_DIR, asset.file));
      res.writeHead(200, {
        'content-type': asset.type,
        'content-length': data.length,
        'content-security-policy': CSP,
        'x-content-type-options': 'nosniff',
        'cache-control': 'no-cache',
      });
      res.end(req.method === 'HEAD' ? undefined : data);
      return;
    }
    if (p === '/api/videos') return send(res, 200, await listVideos(req, url.searchParams));
    if (p.startsWith('/api/videos/')) return send(res, 200, await oneVideo(url, p.slice('/api/videos/'.length)));
    if (p === DRF_ROUTE || p === `${DRF_ROUTE}/`) return send(res, 200, await listDrf(req, url.searchParams));
    if (p.startsWith(`${DRF_ROUTE}/`))
      return send(res, 200, await oneVideo(url, p.slice(DRF_ROUTE.length + 1).replace(/\/$/, '')));
    if (p === '/openapi.json') return send(res, 200, openApiDocument(baseOf(req)));
    if (p === '/healthz') {
      try {
        await store.get('healthz');
      } catch (e) {
        onError(e);
        throw new HttpError(503, 'the videos store does not answer');
      }
      return send(res, 200, { status: 'ok' });
    }
    throw new HttpError(404, `no route ${p}; see /openapi.json`);
  }

  const server = http.createServer((req, res) => {
    handle(req, res).catch((e: unknown) => {
      if (e instanceof ParamError || e instanceof VideosStoreInputError)
        return send(res, 400, { error: { parameter: e.parameter, message: e.message } });
      if (e instanceof HttpError)
        return send(
          res,
          e.status,
          { error: { ...(e.parameter ? { parameter: e.parameter } : {}), message: e.message } },
          e.status === 405 ? { allow: 'GET, HEAD' } : {},
        );
      onError(e);
      if (!res.headersSent) send(res, 500, { error: { message: 'internal error' } });
      else res.destroy();
    });
  });
  server.keepAliveTimeout = 65_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, opts.host ?? '127.0.0.1', () => resolve());
  });
  const addr = server.address() as AddressInfo;
  ownUrl = `http://${addr.family === 'IPv6' ? `[${addr.address}]` : addr.address}:${addr.port}`;
  return {
    url: ownUrl,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((e) => (e ? reject(e) : resolve()));
        server.closeAllConnections();
      }),
  };
}

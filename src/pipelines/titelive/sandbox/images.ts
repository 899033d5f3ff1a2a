/**
 * The Titelive image host sandbox (images.epagine.fr): deterministic bytes per path, and per path a
 * seeded behaviour — most answer at once, some are slow, some answer 404 (the image does not exist),
 * some 500 every time, some 500 on the first request only. It is its own server, so its open/peak
 * connection counts measure the image downloads alone.
 */
import { prng } from '../../../sandbox/faults';
import { SandboxServer, type SandboxRequest, type SandboxResponse } from '../../../sandbox/server';

export type ImageBehaviour = 'ok' | 'slow' | 'missing' | 'broken' | 'flaky';

export interface ImageHostOptions {
  seed?: number;
  /** Shares of paths answering 404, 500 always, 500 once, slowly (the rest: ok). */
  rates?: { missing?: number; broken?: number; flaky?: number; slow?: number };
  slowMs?: number;
  /** Added to every answer (a distant host). */
  latencyMs?: number;
  minBytes?: number;
  maxBytes?: number;
  /** Serve HTTPS, each new connection costing `handshakeMs` (see SandboxOptions.tls). */
  tls?: { handshakeMs?: number };
}

function hash(text: string, seed: number): number {
  let h = (0x811c9dc5 ^ seed) >>> 0;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h;
}

export class ImageHost extends SandboxServer {
  private readonly seen = new Map<string, number>();
  readonly served = new Set<string>();

  constructor(private readonly o: ImageHostOptions = {}) {
    super('titelive-images', { seed: o.seed, tls: o.tls, errorBody: (s) => `<html><body>${s}</body></html>` });
    this.route('GET', '/:dir/:file', 'image', (req) => this.serve(req));
    this.route('GET', '/:file', 'image', (req) => this.serve(req));
  }

  /** What this path does (the tests predict outcomes from it). */
  behaviour(path: string): ImageBehaviour {
    const r = hash(path, this.o.seed ?? 1) / 2 ** 32;
    const { missing = 0.03, broken = 0.015, flaky = 0.035, slow = 0.04 } = this.o.rates ?? {};
    if (r < missing) return 'missing';
    if (r < missing + broken) return 'broken';
    if (r < missing + broken + flaky) return 'flaky';
    if (r < missing + broken + flaky + slow) return 'slow';
    return 'ok';
  }

  private readonly cache = new Map<string, Buffer>();

  /** The bytes served for a path (deterministic; the last 256 are kept). */
  bytes(path: string): Buffer {
    const hit = this.cache.get(path);
    if (hit) return hit;
    const buf = this.generate(path);
    if (this.cache.size >= 256) this.cache.delete(this.cache.keys().next().value!);
    this.cache.set(path, buf);
    return buf;
  }

  private generate(path: string): Buffer {
    const h = hash(path, (this.o.seed ?? 1) + 17);
    const min = this.o.minBytes ?? 1500;
    const max = this.o.maxBytes ?? 6000;
    const size = min + (h % Math.max(1, max - min));
    const rnd = prng(h);
    const buf = Buffer.alloc(size);
    for (let i = 0; i + 4 <= size; i += 4) buf.writeUInt32LE(Math.floor(rnd() * 4294967296), i);
    buf.set([0xff, 0xd8, 0xff, 0xe0], 0);
    buf.set([0xff, 0xd9], size - 2);
    return buf;
  }

  private async serve(req: SandboxRequest): Promise<SandboxResponse> {
    const path = req.path;
    const n = (this.seen.get(path) ?? 0) + 1;
    this.seen.set(path, n);
    const b = this.behaviour(path);
    const wait = (this.o.latencyMs ?? 0) + (b === 'slow' ? (this.o.slowMs ?? 150) : 0);
    if (wait) await new Promise((r) => setTimeout(r, wait));
    this.note({ behaviour: b, attempt: n });
    if (b === 'missing')
      return { status: 404, headers: { 'content-type': 'text/html' }, body: '<h1>404 Not Found</h1>' };
    if (b === 'broken' || (b === 'flaky' && n === 1))
      return { status: 500, headers: { 'content-type': 'text/html' }, body: '<h1>500 Internal Server Error</h1>' };
    this.served.add(path);
    req.truth('image', { path, bytes: this.bytes(path).length });
    return {
      status: 200,
      headers: { 'content-type': 'image/jpeg', 'cache-control': 'max-age=86400' },
      body: this.bytes(path),
    };
  }
}

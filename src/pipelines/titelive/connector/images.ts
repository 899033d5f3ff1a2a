/**
 * Cover images: plain GETs of the `imagesUrl` entries through one keep-alive agent whose socket pool
 * is bounded (maxSockets = the configured pool size), so thousands of downloads reuse a few connections.
 * A stable UUID (v5-style, from the source URL) names each image in the bucket: retries and reruns of the
 * same image write the same object.
 */
import { createHash } from 'node:crypto';
import http from 'node:http';
import https from 'node:https';
import tls from 'node:tls';
import axios, { type AxiosInstance } from 'axios';
import { parseRetryAfter } from '../../../kit/activity/http';

/** The real image host; its URLs are fetched from TITELIVE_IMAGES_URL when that is set. */
export const TITELIVE_IMAGE_ORIGIN = 'https://images.epagine.fr';
const NAMESPACE = '6f1c2a3e-0b7d-4d51-9a53-7469746c6976'; // longhaul/titelive images

/** RFC 4122 version-5 UUID of `name` in the longhaul Titelive namespace. */
export function imageUuid(name: string): string {
  const ns = Buffer.from(NAMESPACE.replace(/-/g, ''), 'hex');
  const h = createHash('sha1').update(ns).update(name, 'utf8').digest();
  h[6] = (h[6] & 0x0f) | 0x50;
  h[8] = (h[8] & 0x3f) | 0x80;
  const x = h.subarray(0, 16).toString('hex');
  return `${x.slice(0, 8)}-${x.slice(8, 12)}-${x.slice(12, 16)}-${x.slice(16, 20)}-${x.slice(20)}`;
}

export type ImageOutcome =
  | { kind: 'ok'; body: Buffer; contentType: string; httpStatus: number }
  | { kind: 'missing'; httpStatus: number; reason: string }
  | { kind: 'retry'; httpStatus?: number; reason: string; retryAfterMs?: number }
  | { kind: 'failed'; httpStatus?: number; reason: string };

/** How an image download is retried (ImageFetcher.fetch). */
export interface ImageRetry {
  /** Retries after the first attempt. */
  retries: number;
  /** The first retry's wait; each further one doubles it. */
  backoffMs: number;
  maxDelayMs: number;
  /** No retry that would wait past this instant (epoch ms). */
  deadline?: number;
}

/** The replaced script's policy: 10 retries, 1 s doubling, at most 2 minutes between attempts. */
export const DEFAULT_IMAGE_RETRY: ImageRetry = { retries: 10, backoffMs: 1000, maxDelayMs: 120_000 };

export interface ImageFetcherOptions {
  poolSize: number;
  timeoutMs?: number;
  /** Replaces the real image origin (sandbox, mirror). */
  imagesBaseUrl?: string;
  maxBytes?: number;
  /** Extra certificate authorities to trust (PEM), e.g. a mirror's private CA; the system's stay trusted. */
  ca?: string;
}

export class ImageFetcher {
  readonly httpAgent: http.Agent;
  readonly httpsAgent: https.Agent;
  private readonly http: AxiosInstance;

  constructor(private readonly opts: ImageFetcherOptions) {
    const agentOpts = {
      keepAlive: true,
      maxSockets: opts.poolSize,
      maxTotalSockets: opts.poolSize,
      maxFreeSockets: opts.poolSize,
      scheduling: 'lifo' as const,
    };
    this.httpAgent = new http.Agent(agentOpts);
    // One secure context for every connection (a `ca` option alone would parse the trusted roots again for each).
    const secureContext = opts.ca ? tls.createSecureContext({ ca: [...tls.rootCertificates, opts.ca] }) : undefined;
    this.httpsAgent = new https.Agent({ ...agentOpts, ...(secureContext ? { secureContext } : {}) });
    this.http = axios.create({
      timeout: opts.timeoutMs ?? 30_000,
      responseType: 'arraybuffer',
      maxContentLength: opts.maxBytes ?? 20 * 1024 * 1024,
      validateStatus: () => true,
      httpAgent: this.httpAgent,
      httpsAgent: this.httpsAgent,
    });
  }

  /** The URL actually fetched for a catalog URL. */
  resolve(url: string): string {
    const base = this.opts.imagesBaseUrl?.replace(/\/$/, '');
    if (base && url.startsWith(TITELIVE_IMAGE_ORIGIN + '/')) return base + url.slice(TITELIVE_IMAGE_ORIGIN.length);
    return url;
  }

  /** One GET, classified: ok, missing (404/410: the image does not exist), retry (5xx/429/network), failed. */
  async fetchOnce(url: string): Promise<ImageOutcome> {
    let target: string;
    try {
      target = this.resolve(url);
      const proto = new URL(target).protocol;
      if (proto !== 'http:' && proto !== 'https:') return { kind: 'failed', reason: `unsupported URL ${url}` };
    } catch {
      return { kind: 'failed', reason: `invalid URL ${url}` };
    }
    try {
      const res = await this.http.get<ArrayBuffer>(target);
      const s = res.status;
      if (s >= 200 && s < 300) {
        const body = Buffer.from(res.data);
        if (body.length === 0) return { kind: 'retry', httpStatus: s, reason: 'empty body' };
        return { kind: 'ok', body, contentType: String(res.headers['content-type'] ?? 'image/jpeg'), httpStatus: s };
      }
      if (s === 404 || s === 410) return { kind: 'missing', httpStatus: s, reason: `HTTP ${s}` };
      if (s === 429 || s === 408 || s >= 500)
        return {
          kind: 'retry',
          httpStatus: s,
          reason: `HTTP ${s}`,
          retryAfterMs: parseRetryAfter(res.headers['retry-after']),
        };
      return { kind: 'failed', httpStatus: s, reason: `HTTP ${s}` };
    } catch (err) {
      const code = (err as { code?: string }).code;
      // A certificate the agent does not trust stays untrusted: no retry (ImageFetcherOptions.ca).
      if (code && /CERT|SELF_SIGNED|UNABLE_TO_VERIFY|ERR_TLS/.test(code))
        return { kind: 'failed', reason: `TLS ${code}: the image host's certificate is not trusted` };
      return { kind: 'retry', reason: code ? `network ${code}` : (err as Error).message };
    }
  }

  /**
   * fetchOnce with retries for the transient outcomes (5xx, 429, 408, network): up to `retries` more
   * attempts, waiting `backoffMs × 2^(n−1)` before the n-th retry (at most `maxDelayMs`), or the host's
   * Retry-After when it sends one (at most `maxDelayMs` too) — the replaced script's policy (urllib3
   * `Retry(total=10, backoff_factor=1)`) by default. Retries stop early rather than wait past `deadline`
   * (epoch ms): the image stays failed for the run's later pass instead of timing its activity out.
   */
  async fetch(url: string, retry: ImageRetry = DEFAULT_IMAGE_RETRY): Promise<ImageOutcome & { attempts: number }> {
    for (let attempt = 1; ; attempt++) {
      const out = await this.fetchOnce(url);
      if (out.kind !== 'retry') return { ...out, attempts: attempt };
      const delay = Math.min(retry.maxDelayMs, out.retryAfterMs ?? retry.backoffMs * 2 ** (attempt - 1));
      const late = retry.deadline !== undefined && Date.now() + delay > retry.deadline;
      if (attempt > retry.retries || late)
        return {
          kind: 'failed',
          httpStatus: out.httpStatus,
          reason: `${out.reason} after ${attempt} attempts${late && attempt <= retry.retries ? ' (no time left to retry in this pass)' : ''}`,
          attempts: attempt,
        };
      await new Promise((r) => setTimeout(r, delay));
    }
  }

  destroy(): void {
    this.httpAgent.destroy();
    this.httpsAgent.destroy();
  }
}

/**
 * Codec server for the Temporal Web UI (`longhaul codec-server`): POST /encode and /decode with
 * `{ payloads: [...] }` in proto JSON. Point the UI at it (dev server: `--ui-codec-endpoint`) so authorised
 * users see decrypted payloads.
 *
 * Hardened for a shared network (docs/security.md): requests must carry
 * `Authorization: Bearer <LONGHAUL_CODEC_TOKEN>`, and the server refuses to start without a token unless it
 * listens on loopback only; CORS answers only the configured Web UI origin (`LONGHAUL_CODEC_ORIGIN`, never
 * `*`), a browser request from any other origin gets 403; request bodies over `LONGHAUL_CODEC_MAX_BODY_BYTES`
 * get 413; with `LONGHAUL_CODEC_STRICT=1` /decode refuses payloads that are not encrypted.
 */
import http from 'node:http';
import type { Payload, PayloadCodec } from '@temporalio/common';
import { codecStrictFromEnv } from './aes-codec';

export { codecStrictFromEnv };

interface JsonPayload {
  metadata?: Record<string, string>;
  data?: string;
}

const fromJson = (p: JsonPayload): Payload => ({
  metadata: Object.fromEntries(Object.entries(p.metadata ?? {}).map(([k, v]) => [k, Buffer.from(v, 'base64')])),
  data: Buffer.from(p.data ?? '', 'base64'),
});
const toJson = (p: Payload): JsonPayload => ({
  metadata: Object.fromEntries(
    Object.entries(p.metadata ?? {}).map(([k, v]) => [k, Buffer.from(v).toString('base64')]),
  ),
  data: Buffer.from(p.data ?? []).toString('base64'),
});

/** The Web UI's origin in `longhaul dev` and docker-compose (port 8233). */
export const DEFAULT_UI_ORIGIN = 'http://localhost:8233';
/** 4 MiB: a Web UI page decodes a history's payloads in batches far below this. */
export const DEFAULT_MAX_BODY_BYTES = 4 * 1024 * 1024;

export interface CodecServerOptions {
  /** Bearer token every /encode and /decode request must carry (none: loopback only). */
  token?: string;
  /** The one browser origin allowed (CORS). Default DEFAULT_UI_ORIGIN. */
  origin?: string;
  /** Larger request bodies get 413. Default DEFAULT_MAX_BODY_BYTES. */
  maxBodyBytes?: number;
  /** Informational: whether the codec refuses plaintext payloads (set on the codec itself). */
  strict?: boolean;
}

const LOOPBACK = new Set(['127.0.0.1', 'localhost', '::1', '[::1]']);
export const isLoopback = (host: string) => LOOPBACK.has(host.trim().toLowerCase()) || /^127\./.test(host.trim());

/**
 * The codec server's options from the environment, for a server listening on `host`. Throws (naming the
 * variable) when LONGHAUL_CODEC_TOKEN is missing on a non-loopback address or a variable is malformed.
 */
export function codecServerOptionsFromEnv(
  env: NodeJS.ProcessEnv,
  host: string,
): Required<Omit<CodecServerOptions, 'token'>> & { token?: string } {
  const token = env.LONGHAUL_CODEC_TOKEN?.trim() || undefined;
  if (!token && !isLoopback(host))
    throw new Error(
      `LONGHAUL_CODEC_TOKEN is not set: the codec server decrypts payloads for anyone who can reach it, so it ` +
        `listens on ${host} only with a token (or use --host 127.0.0.1)`,
    );
  const origin = env.LONGHAUL_CODEC_ORIGIN?.trim() || DEFAULT_UI_ORIGIN;
  if (origin === '*' || !/^https?:\/\/[^/\s]+$/.test(origin))
    throw new Error(
      'LONGHAUL_CODEC_ORIGIN must be one origin like http://localhost:8233 (scheme://host[:port], not *)',
    );
  const rawMax = env.LONGHAUL_CODEC_MAX_BODY_BYTES?.trim();
  const maxBodyBytes = rawMax ? Number(rawMax) : DEFAULT_MAX_BODY_BYTES;
  if (!Number.isInteger(maxBodyBytes) || maxBodyBytes < 1)
    throw new Error('LONGHAUL_CODEC_MAX_BODY_BYTES must be a positive whole number of bytes');
  return { token, origin, maxBodyBytes, strict: codecStrictFromEnv(env) };
}

export function createCodecServer(codec: PayloadCodec, opts: CodecServerOptions = {}): http.Server {
  const allowed = opts.origin ?? DEFAULT_UI_ORIGIN;
  const maxBody = opts.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES;
  return http.createServer((req, res) => {
    const origin = req.headers.origin;
    // Only the configured UI origin is told it may read answers; other origins get no CORS headers.
    const cors: Record<string, string> =
      origin === allowed
        ? {
            'access-control-allow-origin': allowed,
            'access-control-allow-methods': 'POST, OPTIONS',
            'access-control-allow-headers': 'content-type, authorization, x-namespace',
            'access-control-allow-credentials': 'true',
            vary: 'origin',
          }
        : { vary: 'origin' };
    const json = (status: number, body: unknown) =>
      void res.writeHead(status, { ...cors, 'content-type': 'application/json' }).end(JSON.stringify(body));
    if (req.method === 'OPTIONS') return void res.writeHead(204, cors).end();
    const url = new URL(req.url ?? '/', 'http://codec');
    if (req.method !== 'POST' || !['/encode', '/decode'].includes(url.pathname))
      return void res.writeHead(404, cors).end();
    // A browser page from another origin must not use the codec even with a stolen token.
    if (origin !== undefined && origin !== allowed) return json(403, { error: 'origin not allowed' });
    if (opts.token && req.headers.authorization !== `Bearer ${opts.token}`) return json(401, { error: 'unauthorized' });
    const declared = Number(req.headers['content-length'] ?? 0);
    const tooLarge = () => {
      // Answer, then close the connection: the rest of the body is not read.
      res
        .writeHead(413, { ...cors, 'content-type': 'application/json', connection: 'close' })
        .end(JSON.stringify({ error: `request body over ${maxBody} bytes` }), () => req.destroy());
    };
    if (declared > maxBody) return tooLarge();
    const chunks: Buffer[] = [];
    let size = 0;
    let refused = false;
    req.on('data', (c: Buffer) => {
      if (refused) return;
      size += c.length;
      if (size > maxBody) {
        refused = true;
        chunks.length = 0;
        return tooLarge();
      }
      chunks.push(c);
    });
    req.on('end', () => {
      if (refused) return;
      void (async () => {
        try {
          const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { payloads: JsonPayload[] };
          if (!Array.isArray(body?.payloads)) throw new Error('body must be {"payloads": [...]}');
          const payloads = body.payloads.map(fromJson);
          const out = url.pathname === '/encode' ? await codec.encode(payloads) : await codec.decode(payloads);
          json(200, { payloads: out.map(toJson) });
        } catch (err) {
          json(400, { error: (err as Error).message });
        }
      })();
    });
  });
}

/**
 * Codec server for the Temporal Web UI (`longhaul codec-server`): POST /encode and /decode with
 * `{ payloads: [...] }` in proto JSON. Point the UI at it (dev server: `--ui-codec-endpoint`) so authorised
 * users see decrypted payloads; requests must carry `Authorization: Bearer <LONGHAUL_CODEC_TOKEN>` when set.
 */
import http from 'node:http';
import type { Payload, PayloadCodec } from '@temporalio/common';

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

export function createCodecServer(codec: PayloadCodec, opts: { token?: string; origin?: string } = {}): http.Server {
  return http.createServer((req, res) => {
    const cors = {
      'access-control-allow-origin': opts.origin ?? '*',
      'access-control-allow-methods': 'POST, OPTIONS',
      'access-control-allow-headers': 'content-type, authorization, x-namespace',
      'access-control-allow-credentials': 'true',
    };
    if (req.method === 'OPTIONS') return void res.writeHead(204, cors).end();
    const url = new URL(req.url ?? '/', 'http://codec');
    if (req.method !== 'POST' || !['/encode', '/decode'].includes(url.pathname))
      return void res.writeHead(404, cors).end();
    if (opts.token && req.headers.authorization !== `Bearer ${opts.token}`)
      return void res.writeHead(401, cors).end('{"error":"unauthorized"}');
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      void (async () => {
        try {
          const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { payloads: JsonPayload[] };
          const payloads = body.payloads.map(fromJson);
          const out = url.pathname === '/encode' ? await codec.encode(payloads) : await codec.decode(payloads);
          res
            .writeHead(200, { ...cors, 'content-type': 'application/json' })
            .end(JSON.stringify({ payloads: out.map(toJson) }));
        } catch (err) {
          res
            .writeHead(400, { ...cors, 'content-type': 'application/json' })
            .end(JSON.stringify({ error: (err as Error).message }));
        }
      })();
    });
  });
}

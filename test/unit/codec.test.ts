import type { Server } from 'node:http';
import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { defaultPayloadConverter } from '@temporalio/common';
import { AesGcmCodec, dataConverterFromEnv, ENCODING, keysFromEnv } from '../../src/codec/aes-codec';
import { codecServerOptionsFromEnv, createCodecServer } from '../../src/codec/codec-server';

const k1 = randomBytes(32).toString('base64');
const k2 = randomBytes(32).toString('base64');
const payload = defaultPayloadConverter.toPayload({ secret: 'client-secret-value', rows: 42 });

describe('AES-256-GCM payload codec', () => {
  it('round-trips and leaves no plaintext', async () => {
    const codec = new AesGcmCodec(keysFromEnv({ LONGHAUL_ENCRYPTION_KEY: k1 })!);
    const [sealed] = await codec.encode([payload]);
    expect(Buffer.from(sealed.metadata!.encoding!).toString()).toBe(ENCODING);
    expect(Buffer.from(sealed.data!).toString('latin1')).not.toContain('client-secret-value');
    const [opened] = await codec.decode([sealed]);
    expect(defaultPayloadConverter.fromPayload(opened)).toEqual({ secret: 'client-secret-value', rows: 42 });
  });

  it('reads payloads sealed with an old key after rotation, and names a missing key', async () => {
    const old = new AesGcmCodec(keysFromEnv({ LONGHAUL_ENCRYPTION_KEY: k1, LONGHAUL_ENCRYPTION_KEY_ID: 'k1' })!);
    const [sealed] = await old.encode([payload]);
    const rotated = new AesGcmCodec(
      keysFromEnv({
        LONGHAUL_ENCRYPTION_KEY: k2,
        LONGHAUL_ENCRYPTION_KEY_ID: 'k2',
        LONGHAUL_ENCRYPTION_OLD_KEYS: `k1:${k1}`,
      })!,
    );
    expect(defaultPayloadConverter.fromPayload((await rotated.decode([sealed]))[0])).toEqual({
      secret: 'client-secret-value',
      rows: 42,
    });
    const [resealed] = await rotated.encode([payload]);
    expect(Buffer.from(resealed.metadata!['encryption-key-id']!).toString()).toBe('k2');
    const withoutOld = new AesGcmCodec(keysFromEnv({ LONGHAUL_ENCRYPTION_KEY: k2, LONGHAUL_ENCRYPTION_KEY_ID: 'k2' })!);
    await expect(withoutOld.decode([sealed])).rejects.toThrow(/unknown key id "k1"/);
  });

  it('detects tampering', async () => {
    const codec = new AesGcmCodec(keysFromEnv({ LONGHAUL_ENCRYPTION_KEY: k1 })!);
    const [sealed] = await codec.encode([payload]);
    const data = Buffer.from(sealed.data!);
    data[20] ^= 1;
    await expect(codec.decode([{ ...sealed, data }])).rejects.toThrow();
  });

  it('refuses a key of the wrong size', () => {
    expect(() => keysFromEnv({ LONGHAUL_ENCRYPTION_KEY: 'c2hvcnQ=' })).toThrow(/must be 32 bytes/);
  });

  it('serves the Web UI codec endpoints, behind a token', async () => {
    const codec = new AesGcmCodec(keysFromEnv({ LONGHAUL_ENCRYPTION_KEY: k1 })!);
    const server = createCodecServer(codec, { token: 'ui-token' });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const base = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
    const [sealed] = await codec.encode([payload]);
    const body = JSON.stringify({
      payloads: [
        {
          metadata: Object.fromEntries(
            Object.entries(sealed.metadata!).map(([k, v]) => [k, Buffer.from(v).toString('base64')]),
          ),
          data: Buffer.from(sealed.data!).toString('base64'),
        },
      ],
    });
    const denied = await fetch(`${base}/decode`, { method: 'POST', body });
    expect(denied.status).toBe(401);
    const res = await fetch(`${base}/decode`, { method: 'POST', body, headers: { authorization: 'Bearer ui-token' } });
    const json = (await res.json()) as { payloads: { data: string }[] };
    expect(JSON.parse(Buffer.from(json.payloads[0].data, 'base64').toString())).toEqual({
      secret: 'client-secret-value',
      rows: 42,
    });
    server.close();
  });
});

/** Codec server hardening: start-up defaults, CORS, body limit, strict decode (issue #13). */
describe('codec server hardening', () => {
  const sealedJson = async (codec: AesGcmCodec) => {
    const [sealed] = await codec.encode([payload]);
    return {
      metadata: Object.fromEntries(
        Object.entries(sealed.metadata!).map(([k, v]) => [k, Buffer.from(v).toString('base64')]),
      ),
      data: Buffer.from(sealed.data!).toString('base64'),
    };
  };
  const plainJson = {
    metadata: Object.fromEntries(
      Object.entries(payload.metadata!).map(([k, v]) => [k, Buffer.from(v).toString('base64')]),
    ),
    data: Buffer.from(payload.data!).toString('base64'),
  };
  const serve = async (server: Server) => {
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    return `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  };

  it('refuses to start without a token unless bound to loopback, naming the variable', () => {
    expect(() => codecServerOptionsFromEnv({}, '0.0.0.0')).toThrow(/LONGHAUL_CODEC_TOKEN/);
    expect(() => codecServerOptionsFromEnv({ LONGHAUL_CODEC_TOKEN: '' }, '::')).toThrow(/LONGHAUL_CODEC_TOKEN/);
    expect(() => codecServerOptionsFromEnv({}, '192.168.1.10')).toThrow(/LONGHAUL_CODEC_TOKEN/);
    for (const host of ['127.0.0.1', 'localhost', '::1'])
      expect(codecServerOptionsFromEnv({}, host)).toMatchObject({ token: undefined, strict: false });
    const opts = codecServerOptionsFromEnv(
      { LONGHAUL_CODEC_TOKEN: 't', LONGHAUL_CODEC_STRICT: '1', LONGHAUL_CODEC_ORIGIN: 'https://ui.example' },
      '0.0.0.0',
    );
    expect(opts).toMatchObject({ token: 't', strict: true, origin: 'https://ui.example' });
    // Defaults: the local Web UI's origin only, a bounded body.
    expect(codecServerOptionsFromEnv({}, '127.0.0.1').origin).toBe('http://localhost:8233');
    expect(codecServerOptionsFromEnv({}, '127.0.0.1').maxBodyBytes).toBeGreaterThan(0);
    expect(() => codecServerOptionsFromEnv({ LONGHAUL_CODEC_STRICT: 'yes please' }, '127.0.0.1')).toThrow(
      /LONGHAUL_CODEC_STRICT/,
    );
    expect(() => codecServerOptionsFromEnv({ LONGHAUL_CODEC_MAX_BODY_BYTES: '-3' }, '127.0.0.1')).toThrow(
      /LONGHAUL_CODEC_MAX_BODY_BYTES/,
    );
    expect(() => codecServerOptionsFromEnv({ LONGHAUL_CODEC_ORIGIN: '*' }, '127.0.0.1')).toThrow(
      /LONGHAUL_CODEC_ORIGIN/,
    );
  });

  it('answers CORS for the configured UI origin only, never *', async () => {
    const codec = new AesGcmCodec(keysFromEnv({ LONGHAUL_ENCRYPTION_KEY: k1 })!);
    const server = createCodecServer(codec, { token: 'ui-token', origin: 'http://localhost:8233' });
    const base = await serve(server);
    try {
      const ok = await fetch(`${base}/decode`, { method: 'OPTIONS', headers: { origin: 'http://localhost:8233' } });
      expect(ok.status).toBe(204);
      expect(ok.headers.get('access-control-allow-origin')).toBe('http://localhost:8233');
      const evil = await fetch(`${base}/decode`, { method: 'OPTIONS', headers: { origin: 'https://evil.example' } });
      expect(evil.headers.get('access-control-allow-origin')).toBeNull();
      const body = JSON.stringify({ payloads: [await sealedJson(codec)] });
      const cross = await fetch(`${base}/decode`, {
        method: 'POST',
        body,
        headers: { origin: 'https://evil.example', authorization: 'Bearer ui-token' },
      });
      expect(cross.headers.get('access-control-allow-origin')).toBeNull();
      expect(cross.status).toBe(403);
      // Without options, no wildcard either.
      const bare = createCodecServer(codec, { token: 'x' });
      const bareBase = await serve(bare);
      const r = await fetch(`${bareBase}/decode`, { method: 'OPTIONS', headers: { origin: 'https://evil.example' } });
      expect(r.headers.get('access-control-allow-origin')).not.toBe('*');
      bare.close();
    } finally {
      server.close();
    }
  });

  it('caps the request body (413) before reading it all', async () => {
    const codec = new AesGcmCodec(keysFromEnv({ LONGHAUL_ENCRYPTION_KEY: k1 })!);
    const server = createCodecServer(codec, { token: 't', maxBodyBytes: 1024 });
    const base = await serve(server);
    try {
      const big = JSON.stringify({ payloads: [{ data: 'A'.repeat(4096) }] });
      const res = await fetch(`${base}/encode`, { method: 'POST', body: big, headers: { authorization: 'Bearer t' } });
      expect(res.status).toBe(413);
      // Without Content-Length (chunked): counted while read.
      const { request } = await import('node:http');
      const chunked = await new Promise<number>((resolve, reject) => {
        const req = request(`${base}/encode`, { method: 'POST', headers: { authorization: 'Bearer t' } }, (r) => {
          r.resume();
          resolve(r.statusCode ?? 0);
        });
        req.on('error', reject);
        for (let i = 0; i < 8; i++) req.write('A'.repeat(512));
        req.end();
      });
      expect(chunked).toBe(413);
      const small = JSON.stringify({ payloads: [plainJson] });
      const ok = await fetch(`${base}/encode`, { method: 'POST', body: small, headers: { authorization: 'Bearer t' } });
      expect(ok.status).toBe(200);
    } finally {
      server.close();
    }
  });

  it('strict mode refuses plaintext payloads on decode (the codec and the server)', async () => {
    const keys = keysFromEnv({ LONGHAUL_ENCRYPTION_KEY: k1 })!;
    const lax = new AesGcmCodec(keys);
    expect(await lax.decode([payload])).toEqual([payload]);
    const strict = new AesGcmCodec(keys, { strict: true });
    await expect(strict.decode([payload])).rejects.toThrow(/not encrypted/);
    const [sealed] = await strict.encode([payload]);
    expect(defaultPayloadConverter.fromPayload((await strict.decode([sealed]))[0])).toEqual({
      secret: 'client-secret-value',
      rows: 42,
    });
    const server = createCodecServer(strict, { token: 't' });
    const base = await serve(server);
    try {
      const res = await fetch(`${base}/decode`, {
        method: 'POST',
        body: JSON.stringify({ payloads: [plainJson] }),
        headers: { authorization: 'Bearer t' },
      });
      expect(res.status).toBe(400);
      expect(await res.text()).not.toContain('client-secret-value');
    } finally {
      server.close();
    }
    expect(dataConverterFromEnv({ LONGHAUL_ENCRYPTION_KEY: k1, LONGHAUL_CODEC_STRICT: '1' })).toBeDefined();
  });
});

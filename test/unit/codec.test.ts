import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { defaultPayloadConverter } from '@temporalio/common';
import { AesGcmCodec, ENCODING, keysFromEnv } from '../../src/codec/aes-codec';
import { createCodecServer } from '../../src/codec/codec-server';

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

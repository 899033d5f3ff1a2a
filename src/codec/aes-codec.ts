/**
 * Payload encryption: AES-256-GCM over every workflow/activity payload, so inputs, results and heartbeat
 * details are ciphertext in Temporal's database and in transit. Each encrypted payload carries the id of
 * the key that sealed it, so keys can be rotated: new payloads use the current key, old ones stay readable
 * with the keys listed in LONGHAUL_ENCRYPTION_OLD_KEYS.
 */
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import type { Payload, PayloadCodec } from '@temporalio/common';
import { temporal } from '@temporalio/proto';

export const ENCODING = 'binary/encrypted';
const METADATA_ENCODING_KEY = 'encoding';
const METADATA_KEY_ID = 'encryption-key-id';

export interface CodecKeys {
  /** Id of the key new payloads are sealed with. */
  currentKeyId: string;
  /** id → 32-byte key. */
  keys: Record<string, Buffer>;
}

/** Reads `LONGHAUL_ENCRYPTION_KEY` (base64, 32 bytes), `…_KEY_ID` and `…_OLD_KEYS` ("id:base64,…"). */
export function keysFromEnv(env: NodeJS.ProcessEnv = process.env): CodecKeys | undefined {
  const key = env.LONGHAUL_ENCRYPTION_KEY;
  if (!key) return undefined;
  const currentKeyId = env.LONGHAUL_ENCRYPTION_KEY_ID ?? 'k1';
  const keys: Record<string, Buffer> = { [currentKeyId]: decodeKey(key, 'LONGHAUL_ENCRYPTION_KEY') };
  for (const pair of (env.LONGHAUL_ENCRYPTION_OLD_KEYS ?? '').split(',').filter(Boolean)) {
    const [id, b64] = pair.split(':');
    if (!id || !b64) throw new Error('LONGHAUL_ENCRYPTION_OLD_KEYS must be "id:base64key,…"');
    keys[id] = decodeKey(b64, `LONGHAUL_ENCRYPTION_OLD_KEYS (${id})`);
  }
  return { currentKeyId, keys };
}

function decodeKey(b64: string, name: string): Buffer {
  const k = Buffer.from(b64, 'base64');
  if (k.length !== 32) throw new Error(`${name} must be 32 bytes, base64-encoded (got ${k.length} bytes)`);
  return k;
}

export interface CodecOptions {
  /** Refuse payloads that are not encrypted on decode (LONGHAUL_CODEC_STRICT=1): encryption is mandatory. */
  strict?: boolean;
}

export class AesGcmCodec implements PayloadCodec {
  constructor(
    private readonly keys: CodecKeys,
    private readonly opts: CodecOptions = {},
  ) {
    if (!keys.keys[keys.currentKeyId]) throw new Error(`no key with id ${keys.currentKeyId}`);
  }

  async encode(payloads: Payload[]): Promise<Payload[]> {
    const key = this.keys.keys[this.keys.currentKeyId];
    return payloads.map((p) => {
      const iv = randomBytes(12);
      const cipher = createCipheriv('aes-256-gcm', key, iv);
      const plain = temporal.api.common.v1.Payload.encode(p).finish();
      const sealed = Buffer.concat([iv, cipher.update(plain), cipher.final(), cipher.getAuthTag()]);
      return {
        metadata: {
          [METADATA_ENCODING_KEY]: Buffer.from(ENCODING),
          [METADATA_KEY_ID]: Buffer.from(this.keys.currentKeyId),
        },
        data: sealed,
      };
    });
  }

  async decode(payloads: Payload[]): Promise<Payload[]> {
    return payloads.map((p) => {
      const encoding = Buffer.from(p.metadata?.[METADATA_ENCODING_KEY] ?? []).toString();
      if (encoding !== ENCODING) {
        if (this.opts.strict)
          throw new Error(
            `payload is not encrypted (encoding "${encoding.slice(0, 40)}"): refused, LONGHAUL_CODEC_STRICT is on`,
          );
        return p;
      }
      const keyId = Buffer.from(p.metadata?.[METADATA_KEY_ID] ?? []).toString();
      const key = this.keys.keys[keyId];
      if (!key)
        throw new Error(`payload sealed with unknown key id "${keyId}" (add it to LONGHAUL_ENCRYPTION_OLD_KEYS)`);
      const data = Buffer.from(p.data ?? []);
      const decipher = createDecipheriv('aes-256-gcm', key, data.subarray(0, 12));
      decipher.setAuthTag(data.subarray(data.length - 16));
      const plain = Buffer.concat([decipher.update(data.subarray(12, data.length - 16)), decipher.final()]);
      return temporal.api.common.v1.Payload.decode(plain);
    });
  }
}

/** `LONGHAUL_CODEC_STRICT`: 1/true refuses plaintext payloads on decode; unset, 0 or false does not. */
export function codecStrictFromEnv(env: NodeJS.ProcessEnv): boolean {
  const v = env.LONGHAUL_CODEC_STRICT?.trim().toLowerCase();
  if (!v || v === '0' || v === 'false') return false;
  if (v === '1' || v === 'true') return true;
  throw new Error('LONGHAUL_CODEC_STRICT must be 1, true, 0 or false');
}

/**
 * The data converter option for workers and clients: encryption when a key is configured; with
 * LONGHAUL_CODEC_STRICT=1 they also refuse plaintext payloads (e.g. a signal sent without the codec).
 */
export function dataConverterFromEnv(env: NodeJS.ProcessEnv = process.env) {
  const keys = keysFromEnv(env);
  return keys ? { payloadCodecs: [new AesGcmCodec(keys, { strict: codecStrictFromEnv(env) })] } : undefined;
}

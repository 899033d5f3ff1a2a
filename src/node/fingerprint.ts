import { createHash } from 'node:crypto';

/**
 * A short, stable, non-reversible identifier for a secret (API key, client id): safe for history and logs.
 * 64 bits of SHA-256 (16 hex digits): it names per-account entity workflows (semaphores, limiters) and the
 * LonghaulAccount search attribute, so two accounts must not share one (40 bits collided within ~1 million).
 */
export function fingerprint(secret: string): string {
  return 'fp-' + createHash('sha256').update(secret).digest('hex').slice(0, 16);
}

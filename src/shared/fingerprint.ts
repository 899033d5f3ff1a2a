import { createHash } from 'node:crypto';

/** A short, stable, non-reversible identifier for a secret (API key, client id): safe for history and logs. */
export function fingerprint(secret: string): string {
  return 'fp-' + createHash('sha256').update(secret).digest('hex').slice(0, 10);
}

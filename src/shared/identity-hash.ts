/**
 * The one 64-bit identity hash of the project (FNV-1a 64 over the canonical JSON of a value, keys sorted),
 * 16 hex digits: workflow IDs derived from an input, YouTube work areas, Dailymotion report configurations.
 * A 32-bit hash collides after ~77,000 inputs (birthday bound): two inputs would share — and reuse or delete —
 * each other's runs and data; 64 bits need ~5 billion. Pure and workflow-safe (no BigInt: 32-bit halves with
 * exact integer arithmetic).
 */

/** The canonical JSON of a value: object keys sorted, so `{a, b}` and `{b, a}` hash the same. */
export function canonicalJson(value: unknown): string {
  return (
    JSON.stringify(value, (_k, v: unknown) =>
      v && typeof v === 'object' && !Array.isArray(v)
        ? Object.fromEntries(Object.entries(v as Record<string, unknown>).sort(([a], [b]) => a.localeCompare(b)))
        : v,
    ) ?? 'undefined'
  );
}

/** FNV-1a 64 of a string's UTF-16 code units, as 16 hex digits. */
export function fnv1a64(text: string): string {
  // offset basis 0xcbf29ce484222325, prime 0x100000001b3 = 2^40 + 0x1b3
  let hi = 0xcbf29ce4;
  let lo = 0x84222325;
  for (let i = 0; i < text.length; i++) {
    lo = (lo ^ text.charCodeAt(i)) >>> 0;
    // (hi·2^32 + lo) · (2^40 + 0x1b3) mod 2^64
    const a = lo * 0x1b3; // < 2^41: exact
    const carry = Math.floor(a / 0x1_0000_0000);
    const nextLo = a >>> 0;
    hi = (Math.imul(hi, 0x1b3) + carry + (lo << 8)) >>> 0;
    lo = nextLo;
  }
  return hi.toString(16).padStart(8, '0') + lo.toString(16).padStart(8, '0');
}

/** 64-bit identity hash of a value (16 hex digits). */
export function identityHash(value: unknown): string {
  return fnv1a64(canonicalJson(value));
}

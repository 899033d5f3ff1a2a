/** The chaos suite's comparison (test/helpers/chaos.ts): what it counts, and how it reports a changed row. */
import { describe, expect, it } from 'vitest';
import { compare } from '../helpers/chaos';

const row = (o: Record<string, unknown>) => JSON.stringify(o);

describe('chaos compare', () => {
  it('counts missing, extra and repeated rows and changed objects; names the columns of a changed row', () => {
    const ref = {
      tables: { t: [row({ id: 1, v: 'a' }), row({ id: 2, v: 'b' }), row({ id: 3, v: 'c' })] },
      objects: { k1: 'h1', k2: 'h2' },
    };
    const got = {
      tables: { t: [row({ id: 1, v: 'a' }), row({ id: 1, v: 'a' }), row({ id: 2, v: 'B' })] },
      objects: { k1: 'h1', k2: 'other', k3: 'h3' },
    };
    const c = compare(ref, got);
    expect(c).toMatchObject({ missingRows: 2, extraRows: 1, duplicateRows: 1, changedObjects: 1, extraObjects: 1 });
    expect(c.differences).toBe(6);
    expect(c.samples).toContain('t: a row differs in v: "b" → "B" (reference → this run) — {"id":2,"v":"B"}');
    expect(c.samples).toContain('t: missing {"id":3,"v":"c"}');
    expect(compare(ref, ref).differences).toBe(0);
  });
});

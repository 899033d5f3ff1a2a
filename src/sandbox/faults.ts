/**
 * Fault injection for sandboxes. A rule matches requests by route name (or '*') and injects one kind of
 * fault, either for the next `times` matching requests or at a seeded random `rate`.
 */
import { z } from 'zod';

export const faultKinds = [
  '429',
  '500',
  '502',
  '503',
  'timeout',
  'reset',
  '401',
  '403',
  '404',
  'malformed',
  'truncated',
  'slow',
] as const;
export type FaultKind = (typeof faultKinds)[number];

export const faultRuleSchema = z.object({
  route: z.string().default('*'),
  kind: z.enum(faultKinds),
  times: z.number().int().positive().optional(),
  rate: z.number().min(0).max(1).optional(),
  retryAfterSec: z.number().int().nonnegative().default(1),
  delayMs: z.number().int().nonnegative().default(2000),
});
export type FaultRule = z.infer<typeof faultRuleSchema>;
export type FaultRuleInput = z.input<typeof faultRuleSchema>;

/** mulberry32: a small deterministic PRNG. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export class FaultInjector {
  private rules: (FaultRule & { left?: number })[] = [];
  readonly injected: Record<string, number> = {};
  private readonly random: () => number;

  constructor(seed = 1) {
    this.random = prng(seed);
  }

  add(input: FaultRuleInput): void {
    const rule = faultRuleSchema.parse(input);
    this.rules.push({ ...rule, left: rule.times });
  }

  clear(): void {
    this.rules = [];
  }

  /** Returns the fault to inject for this request, if any (consuming one of a counted rule's uses). */
  pick(route: string): FaultRule | undefined {
    for (const r of this.rules) {
      if (r.route !== '*' && r.route !== route) continue;
      if (r.left !== undefined) {
        if (r.left <= 0) continue;
        r.left--;
      } else if (r.rate !== undefined && this.random() >= r.rate) continue;
      this.injected[r.kind] = (this.injected[r.kind] ?? 0) + 1;
      return r;
    }
    return undefined;
  }
}

/**
 * zod schemas of the Titelive responses longhaul relies on, and the normalisation of their shape
 * variants (`result` as a list or as an object keyed "0", "1", …; `{}` when empty). Items are kept raw
 * (passthrough): the parse stage owns their flattening.
 */
import { z } from 'zod';

export const loginResponseSchema = z.object({ token: z.string().min(1) });

const intLike = z.union([z.number(), z.string()]).transform((v, ctx) => {
  const n = Number(v);
  if (!Number.isFinite(n)) {
    ctx.addIssue({ code: 'custom', message: `not a number: ${String(v)}` });
    return z.NEVER;
  }
  return n;
});

export const rawItemSchema = z.looseObject({ id: z.union([z.string().min(1), z.number()]) });
export type RawItem = z.infer<typeof rawItemSchema>;

export const searchEnvelopeSchema = z.looseObject({
  nbreponses: intLike.optional(),
  page: intLike.optional(),
  nombre: intLike.optional(),
  result: z.union([z.array(z.unknown()), z.record(z.string(), z.unknown())]).optional(),
});

/** `result` as a list, whatever shape it came in (object keys in numeric order). */
export function resultItems(result: unknown[] | Record<string, unknown> | undefined): unknown[] {
  if (!result) return [];
  if (Array.isArray(result)) return result;
  return Object.keys(result)
    .sort((a, b) => Number(a) - Number(b) || a.localeCompare(b))
    .map((k) => result[k]);
}

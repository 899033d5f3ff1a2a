/** zod helpers shared by the client and workflows: one readable message naming each bad field. */
import type { z } from 'zod';

export function formatIssues(error: z.ZodError): string {
  return error.issues.map((i) => `${i.path.length ? i.path.join('.') : 'input'}: ${i.message}`).join('; ');
}

export class InputError extends Error {
  override name = 'InputError';
}

/** Parses `input` or throws an InputError naming the bad fields. */
export function parseInput<S extends z.ZodType>(schema: S, input: unknown, what = 'input'): z.output<S> {
  const res = schema.safeParse(input);
  if (!res.success) throw new InputError(`Invalid ${what}: ${formatIssues(res.error)}`);
  return res.data;
}

/** zod helpers shared by the client and workflows: one readable message naming each bad field. */
import type { z } from 'zod';

export function formatIssues(error: z.ZodError): string {
  return error.issues.map((i) => `${i.path.length ? i.path.join('.') : 'input'}: ${i.message}`).join('; ');
}

export class InputError extends Error {
  override name = 'InputError';
}

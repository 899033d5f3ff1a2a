/** What a promise the test expects to fail rejects with. */
import { expect } from 'vitest';

/**
 * The error `p` rejects with, checked to be an `ErrorClass` (a `p` that resolves fails the check);
 * `message` names the case in the assertion's message.
 */
export async function rejection<E>(
  p: Promise<unknown>,
  ErrorClass: abstract new (...args: never[]) => E,
  message?: string,
): Promise<E> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err, message).toBeInstanceOf(ErrorClass);
  return err as E;
}

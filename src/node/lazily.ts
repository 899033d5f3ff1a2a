/**
 * A value made on first use and kept: for a module whose load costs memory and start-up time that most
 * processes never need (a cloud SDK on the default profile) — `lazily(() => require('…') as typeof M)`.
 */
export function lazily<T>(make: () => T): () => T {
  let made: { value: T } | undefined;
  return () => (made ??= { value: make() }).value;
}

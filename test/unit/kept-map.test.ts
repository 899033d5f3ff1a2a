/** What the videos stores keep between requests: at most its capacity, the least recently used dropped first. */
import { expect, it } from 'vitest';
import { KeptMap } from '../../src/sinks/videos-store';

it('drops the least recently used entry; a get makes an entry the latest, a peek does not', () => {
  const m = new KeptMap<number>(2);
  m.set('a', 1);
  m.set('b', 2);
  expect(m.get('a')).toBe(1); // now b is the oldest
  m.set('c', 3);
  expect([m.peek('a'), m.peek('b'), m.peek('c')]).toEqual([1, undefined, 3]);
  expect(m.peek('a')).toBe(1); // a stays the oldest after peeks
  m.set('d', 4);
  expect([m.peek('a'), m.peek('c'), m.peek('d')]).toEqual([undefined, 3, 4]);
  m.set('c', 30); // replacing keeps the count
  m.set('e', 5);
  expect([m.peek('c'), m.peek('d'), m.peek('e')]).toEqual([30, undefined, 5]);
  m.delete('c');
  m.clear();
  expect(m.peek('e')).toBeUndefined();
});

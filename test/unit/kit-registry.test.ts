/** The worker's activities merged per API: a name defined twice stops the worker, naming both groups. */
import { describe, expect, it } from 'vitest';
import { DuplicateActivityError, mergeActivities } from '../../src/kit/activity/registry';

describe('mergeActivities', () => {
  it('merges the groups, keeping every activity', async () => {
    const merged = mergeActivities({
      a: { one: async () => 1, two: async () => 2 },
      b: { three: async () => 3 },
    });
    expect(Object.keys(merged).sort()).toEqual(['one', 'three', 'two']);
    expect(await merged.three()).toBe(3);
  });

  it('refuses an activity name defined by two groups, naming it and both groups', () => {
    const merge = () =>
      mergeActivities({
        dailymotion: { loadReport: async () => 'dm' },
        sixth: { askReport: async () => 'x', loadReport: async () => 'sixth' },
      });
    expect(merge).toThrow(DuplicateActivityError);
    expect(merge).toThrow('activity "loadReport" is defined by both dailymotion and sixth');
  });
});

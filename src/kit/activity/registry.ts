/**
 * The worker's activities, merged from one group per API. Activities are registered by name, so two groups
 * defining the same name (a new API's `loadReport` next to Dailymotion's) would silently replace one another
 * with an object spread: here the worker refuses to start, naming the activity and both groups.
 */

type Group = Record<string, unknown>;
type UnionToIntersection<U> = (U extends unknown ? (u: U) => void : never) extends (i: infer I) => void ? I : never;

export class DuplicateActivityError extends Error {
  override name = 'DuplicateActivityError';
}

/** Merges `groups` (name → activities) into one object; throws if an activity name is defined twice. */
export function mergeActivities<G extends Record<string, Group>>(groups: G): UnionToIntersection<G[keyof G]> {
  const merged: Group = {};
  const owner = new Map<string, string>();
  for (const [group, activities] of Object.entries(groups)) {
    for (const [name, fn] of Object.entries(activities)) {
      const first = owner.get(name);
      if (first !== undefined)
        throw new DuplicateActivityError(
          `activity "${name}" is defined by both ${first} and ${group}: activity names are global to a worker, ` +
            'rename one of them',
        );
      owner.set(name, group);
      merged[name] = fn;
    }
  }
  return merged as UnionToIntersection<G[keyof G]>;
}

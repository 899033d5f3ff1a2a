/**
 * The configured YouTube keys: `YOUTUBE_API_KEYS` holds `project:key` pairs. Quota belongs to the Google
 * Cloud project, so keys are grouped by project; workflows and the ledger see fingerprints only.
 */
import { fingerprint } from '../../../node/fingerprint';

export interface YoutubeKey {
  project: string;
  key: string;
  fingerprint: string;
}

export function parseYoutubeKeys(pairs: string[]): YoutubeKey[] {
  const out: YoutubeKey[] = [];
  for (const pair of pairs) {
    const i = pair.indexOf(':');
    if (i <= 0 || i === pair.length - 1)
      throw new Error(
        `YOUTUBE_API_KEYS: expected project:key pairs, got an entry without a project (${pair.length} chars)`,
      );
    const project = pair.slice(0, i).trim();
    const key = pair.slice(i + 1).trim();
    if (out.some((k) => k.key === key)) throw new Error(`YOUTUBE_API_KEYS: key ${fingerprint(key)} is listed twice`);
    out.push({ project, key, fingerprint: fingerprint(key) });
  }
  return out;
}

/** Projects in first-seen order with their keys' fingerprints. */
export function projectsOf(keys: YoutubeKey[]): { project: string; fingerprints: string[] }[] {
  const by = new Map<string, string[]>();
  for (const k of keys) by.set(k.project, [...(by.get(k.project) ?? []), k.fingerprint]);
  return [...by].map(([project, fingerprints]) => ({ project, fingerprints }));
}

/**
 * `longhaul simulate` for the YouTube pipelines: the sandbox with the user's projects, keys and daily units,
 * answering videos.list with IDs only (cheap at hundreds of thousands of IDs; said in the output).
 */
import type { SimulationSpec } from '../../../sandbox/index';
import { fractionKey, intKey } from '../../../sandbox/simulation-keys';
import { YoutubeSandbox, youtubeKeyPairs, type SandboxProject } from './server';
import { fingerprint } from '../../../node/fingerprint';

export const youtubeSimulation: SimulationSpec = {
  keys: {
    projects: intKey('Google Cloud projects (each with its own daily quota)', 1, 1, 100),
    keysPerProject: intKey('API keys per project (they share its quota)', 1, 1, 20),
    unitsPerDay: intKey(
      "each project's units per Pacific day (the API's quota; a call of videos.list costs 1)",
      10_000,
      1,
    ),
    searchCallsPerDay: intKey('search.list calls per project and Pacific day (the watcher)', 100, 1),
    missingRate: fractionKey('share of IDs the API does not return (deleted or private videos)', 0.04),
  },
  create(api, { seed }) {
    const projects: SandboxProject[] = Array.from({ length: api.projects as number }, (_, p) => ({
      id: `sim-project-${p + 1}`,
      keys: Array.from({ length: api.keysPerProject as number }, (_, k) => `AIzaSim-p${p + 1}-k${k + 1}`),
    }));
    const server = new YoutubeSandbox({
      seed,
      projects,
      unitsPerDay: api.unitsPerDay as number,
      searchCallsPerDay: api.searchCallsPerDay as number,
      missingRate: api.missingRate as number,
      idsOnly: true,
    });
    return {
      server,
      env: (url) => ({
        YOUTUBE_BASE_URL: `${url}/youtube/v3`,
        YOUTUBE_API_KEYS: youtubeKeyPairs(projects),
      }),
      scaled: ['videos.list answers carry each video’s ID only (no snippet or statistics): the rows are IDs'],
      usage: () => {
        const names = new Map(projects.flatMap((x) => x.keys).map((k) => [fingerprint(k), k]));
        const byProject: Record<string, { calls: number; units: number; byDay: Record<string, number> }> = {};
        const byKey: Record<string, number> = {};
        let refused = 0;
        for (const c of server.calls) {
          if (c.status !== 200) {
            refused++;
            continue;
          }
          const p = (byProject[c.project ?? '?'] ??= { calls: 0, units: 0, byDay: {} });
          p.calls++;
          p.units += c.units ?? 0;
          p.byDay[c.day ?? '?'] = (p.byDay[c.day ?? '?'] ?? 0) + (c.units ?? 0);
          const key = names.get(c.key ?? '') ?? c.key ?? '?';
          byKey[key] = (byKey[key] ?? 0) + 1;
        }
        return Promise.resolve({ calls: server.calls.length, refused, byProject, callsByKey: byKey });
      },
    };
  },
};

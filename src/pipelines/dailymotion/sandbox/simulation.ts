/**
 * `longhaul simulate dailymotion-report`: the partner API's sandbox with the user's report generation time,
 * failure rate and per-account generation limit; a small catalog keeps the files small (said in the output).
 */
import type { SimulationSpec } from '../../../sandbox/index';
import { durationKey, fractionKey, intKey } from '../../../sandbox/simulation-keys';
import { DailymotionSandbox, DM_SANDBOX_CLIENT_ID, DM_SANDBOX_CLIENT_SECRET } from './server';

const HOUR = 3_600_000;

export const dailymotionSimulation: SimulationSpec = {
  keys: {
    generationTime: durationKey('how long a report takes to generate', HOUR, 1000),
    failureRate: fractionKey('share of reports that end FAILED (asked again, up to --max-asks)', 0),
    maxConcurrent: intKey('reports the API lets an account generate at once (it says 2)', 2, 1, 20),
    retention: durationKey('how long a finished report stays downloadable', 48 * HOUR, 60_000),
    videos: intKey("videos in the sandbox's catalog (sets the rows per report)", 12, 1, 10_000),
  },
  create(api, { seed }) {
    const server = new DailymotionSandbox({
      seed,
      generationMs: api.generationTime as number,
      failureRate: api.failureRate as number,
      maxConcurrent: api.maxConcurrent as number,
      retentionMs: api.retention as number,
      catalog: { videos: api.videos as number },
    });
    return {
      server,
      env: (url) => ({
        DM_BASE_URL: url,
        DM_CLIENT_API: DM_SANDBOX_CLIENT_ID,
        DM_CLIENT_SECRET: DM_SANDBOX_CLIENT_SECRET,
      }),
      scaled: [
        `rows come from the sandbox's catalog of ${String(api.videos)} videos: the counts are not your account's`,
      ],
      usage: async () => {
        const asks = await server.asks();
        const by = (s: string) => asks.filter((a) => a.status === s).length;
        return {
          reportsAsked: asks.length,
          finished: by('FINISHED'),
          failed: asks.filter((a) => a.failed).length,
          expired: by('EXPIRED'),
          refusedForTheLimit: server.refusedAsks().length,
          peakGenerating: server.maxConcurrentGenerating(),
          rowsServed: asks.reduce((n, a) => n + a.rows, 0),
        };
      },
    };
  },
};

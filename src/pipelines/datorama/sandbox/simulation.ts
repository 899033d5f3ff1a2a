/**
 * `longhaul simulate` for the Datorama operations: the platform sandbox with the token's limits (60 calls a
 * minute and 20,000 a day by default; the worker is told the same), its workspaces, streams and job history.
 */
import type { SimulationSpec } from '../../../sandbox/index';
import { intKey } from '../../../sandbox/simulation-keys';
import { DATORAMA_DEMO_TOKEN, DatoramaSandbox } from './server';

export const datoramaSimulation: SimulationSpec = {
  keys: {
    perMinute: intKey("calls a minute the API allows the token (the worker's DATORAMA_PER_MINUTE too)", 60, 1, 6000),
    perDay: intKey("calls a UTC day the API allows the token (the worker's DATORAMA_PER_DAY too)", 20_000, 1),
    workspaces: intKey('workspaces on the platform', 4, 1, 100),
    streams: intKey('streams on the platform (IDs from 10001)', 240, 1, 100_000),
    failEvery: intKey('one job in this many ends in failure', 23, 1),
  },
  create(api, { seed }) {
    const server = new DatoramaSandbox({
      seed,
      perMinute: api.perMinute as number,
      perDay: api.perDay as number,
      workspaces: api.workspaces as number,
      streams: api.streams as number,
      failEvery: api.failEvery as number,
    });
    return {
      server,
      env: (url) => ({
        DATORAMA_BASE_URL: `${url}/v1`,
        DATORAMA_TOKEN: DATORAMA_DEMO_TOKEN,
        DATORAMA_PER_MINUTE: String(api.perMinute as number),
        DATORAMA_PER_DAY: String(api.perDay as number),
      }),
      scaled: [],
      usage: () =>
        Promise.resolve({ refusedForTheLimits: server.log.filter((e) => e.status === 429 && !e.fault).length }),
    };
  },
};

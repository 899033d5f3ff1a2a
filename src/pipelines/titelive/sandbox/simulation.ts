/**
 * `longhaul simulate titelive`: the catalog sandbox with the user's catalog size, result cap and the API's
 * measured rate (70 requests in any second, 30/s sustained, 429 beyond), and the workers' own shared rate
 * (TITELIVE_RATE_PER_SECOND / _BURST, given to the simulated worker). Requests are paced in real time inside
 * the extract activity (the time-skipping server does not skip while an activity runs): a simulation takes
 * about as long as the rate-limited requests it makes — said in its output.
 */
import type { SimulationSpec } from '../../../sandbox/index';
import { intKey } from '../../../sandbox/simulation-keys';
import { TITELIVE_DEMO_PASSWORD, TITELIVE_DEMO_USER, TiteliveSandbox } from './server';

export const titeliveSimulation: SimulationSpec = {
  keys: {
    books: intKey('books in the catalog (LIVRE)', 2_000, 0, 200_000),
    music: intKey('recorded-music products in the catalog (MUSIQUE_ENREGISTREE)', 300, 0, 200_000),
    from: intKey('the catalog’s modifications start this many days before the simulation starts', 60, 1, 3_650),
    maxResults: intKey('results the API serves per query (its cap: a query above it is split)', 20_000, 1),
    peakPerSecond: intKey('requests the API admits in any second', 70, 1),
    sustainedPerSecond: intKey('requests a second the API sustains', 30, 1),
    reserve: intKey('requests the API admits above its sustained rate before it refuses', 1_200, 0),
    clientPerSecond: intKey("the workers' shared request rate (their TITELIVE_RATE_PER_SECOND; 0: none)", 25, 0),
    clientBurst: intKey('requests the workers may send at once (their TITELIVE_RATE_BURST)', 25, 1),
  },
  create(api, { seed }) {
    const n = (k: string) => api[k] as number;
    // Modifications spread over the `from` days up to the simulation's start (real time: the sandbox clock
    // follows the virtual one from there).
    const days = n('from');
    const from = new Date(Date.now() - days * 86_400_000).toISOString().slice(0, 10);
    const server = new TiteliveSandbox({
      seed,
      catalog: { books: n('books'), music: n('music'), from, days },
      maxResults: n('maxResults'),
      rate: { peakPerSecond: n('peakPerSecond'), sustainedPerSecond: n('sustainedPerSecond'), reserve: n('reserve') },
    });
    return {
      server,
      env: (url) => ({
        TITELIVE_LOGIN_URL: `${url}/v1`,
        TITELIVE_SEARCH_URL: `${url}/v1`,
        TITELIVE_IMAGES_URL: server.images.url,
        TITELIVE_USERNAME: TITELIVE_DEMO_USER,
        TITELIVE_PASSWORD: TITELIVE_DEMO_PASSWORD,
        TITELIVE_MAX_RESULTS: String(n('maxResults')),
        TITELIVE_RATE_PER_SECOND: String(n('clientPerSecond')),
        TITELIVE_RATE_BURST: String(n('clientBurst')),
        TITELIVE_IMAGE_RETRY_BACKOFF_MS: '50',
        TITELIVE_IMAGE_RETRY_MAX_MS: '1000',
      }),
      scaled: [
        'requests are paced in real time (the workers’ shared rate): the extraction takes about as long to simulate as to run',
        'images come from a local host (its broken ones are retried 50 ms apart, not the production policy’s seconds)',
      ],
      usage: () => {
        const searches = server.log.filter((e) => e.route === 'search');
        return Promise.resolve({
          searches: searches.length,
          logins: server.log.filter((e) => e.route === 'login').length,
          refusedForTheRate: server.rateLimited,
          images: server.images.log.length,
        });
      },
    };
  },
};

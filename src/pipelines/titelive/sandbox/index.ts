/** The `titelive` sandbox entry: API on :4104, image host on :4114, demo credentials in the env. */
import type { SandboxFactory } from '../../../sandbox/index';
import { TITELIVE_DEMO_PASSWORD, TITELIVE_DEMO_USER, TiteliveSandbox } from './server';
import { titeliveSimulation } from './simulation';

export const titeliveSandbox: SandboxFactory = {
  port: 4104,
  env: (url) => ({
    TITELIVE_LOGIN_URL: `${url}/v1`,
    TITELIVE_SEARCH_URL: `${url}/v1`,
    TITELIVE_IMAGES_URL:
      TiteliveSandbox.byUrl.get(url)?.images.url ?? url.replace(/:(\d+)$/, (_, p: string) => `:${Number(p) + 10}`),
    TITELIVE_USERNAME: TITELIVE_DEMO_USER,
    TITELIVE_PASSWORD: TITELIVE_DEMO_PASSWORD,
    // The sandbox's broken images fail for good: a local run retries them 10 times 50 ms apart, doubling up
    // to 1 s (about 7 s an image), not the production policy's minutes.
    TITELIVE_IMAGE_RETRY_BACKOFF_MS: '50',
    TITELIVE_IMAGE_RETRY_MAX_MS: '1000',
  }),
  create: ({ seed }) => new TiteliveSandbox({ seed }),
  simulation: titeliveSimulation,
};

export { TiteliveSandbox, TITELIVE_DEMO_PASSWORD, TITELIVE_DEMO_USER } from './server';

/** The `titelive` sandbox entry: API on :4104, image host on :4114, demo credentials in the env. */
import type { SandboxFactory } from '../../../sandbox/index';
import { TITELIVE_DEMO_PASSWORD, TITELIVE_DEMO_USER, TiteliveSandbox } from './server';

export const titeliveSandbox: SandboxFactory = {
  port: 4104,
  env: (url) => ({
    TITELIVE_LOGIN_URL: `${url}/v1`,
    TITELIVE_SEARCH_URL: `${url}/v1`,
    TITELIVE_IMAGES_URL:
      TiteliveSandbox.byUrl.get(url)?.images.url ?? url.replace(/:(\d+)$/, (_, p: string) => `:${Number(p) + 10}`),
    TITELIVE_USERNAME: TITELIVE_DEMO_USER,
    TITELIVE_PASSWORD: TITELIVE_DEMO_PASSWORD,
  }),
  create: ({ seed }) => new TiteliveSandbox({ seed }),
};

export { TiteliveSandbox, TITELIVE_DEMO_PASSWORD, TITELIVE_DEMO_USER } from './server';

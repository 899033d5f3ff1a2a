/** The `acme` sandbox entry: the reporting API on :4106, the demo token in the env. */
import type { SandboxFactory } from '../../../sandbox/index';
import { ACME_DEMO_TOKEN, AcmeSandbox } from './server';

export const acmeSandbox: SandboxFactory = {
  port: 4106,
  env: (url) => ({ ACME_API_URL: url, ACME_TOKEN: ACME_DEMO_TOKEN }),
  create: ({ seed }) => new AcmeSandbox({ seed }),
};

/** The `datorama` sandbox entry: platform API on :4103 under /v1, a demo token in the env. */
import type { SandboxFactory } from '../../../sandbox/index';
import { DATORAMA_DEMO_TOKEN, DatoramaSandbox } from './server';
import { datoramaSimulation } from './simulation';

export const datoramaSandbox: SandboxFactory = {
  port: 4103,
  env: (url) => ({ DATORAMA_BASE_URL: `${url}/v1`, DATORAMA_TOKEN: DATORAMA_DEMO_TOKEN }),
  create: ({ seed }) => new DatoramaSandbox({ seed }),
  simulation: datoramaSimulation,
};

export { DatoramaSandbox, DATORAMA_DEMO_TOKEN, type DatoramaSandboxOptions, type LoggedAction } from './server';

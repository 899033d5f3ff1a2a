/** The `dailymotion` sandbox entry: partner API (token, GraphQL, report files) on :4101, demo key in the env. */
import type { SandboxFactory } from '../../../sandbox/index';
import { DailymotionSandbox, DM_SANDBOX_CLIENT_ID, DM_SANDBOX_CLIENT_SECRET, DM_SANDBOX_PORT } from './server';
import { dailymotionSimulation } from './simulation';

export const dailymotionSandbox: SandboxFactory = {
  port: DM_SANDBOX_PORT,
  env: (url) => ({ DM_BASE_URL: url, DM_CLIENT_API: DM_SANDBOX_CLIENT_ID, DM_CLIENT_SECRET: DM_SANDBOX_CLIENT_SECRET }),
  create: ({ seed }) => new DailymotionSandbox({ seed }),
  simulation: dailymotionSimulation,
};

export {
  DailymotionSandbox,
  DM_SANDBOX_ACCOUNT,
  DM_SANDBOX_CLIENT_ID,
  DM_SANDBOX_CLIENT_SECRET,
  DM_SANDBOX_PASSWORD,
  DM_SANDBOX_PORT,
  DM_SANDBOX_SCOPES,
  DM_SANDBOX_USERNAME,
  type AskView,
  type DailymotionSandboxOptions,
  type Settings as DailymotionSandboxSettings,
} from './server';

/** The `youtube` sandbox entry: YouTube Data API v3 on :4102, demo projects and keys in the env. */
import type { SandboxFactory } from '../../../sandbox/index';
import { YOUTUBE_DEMO_PROJECTS, YoutubeSandbox, youtubeKeyPairs } from './server';
import { youtubeSimulation } from './simulation';

export const youtubeSandbox: SandboxFactory = {
  port: 4102,
  env: (url) => ({
    YOUTUBE_BASE_URL: `${url}/youtube/v3`,
    YOUTUBE_API_KEYS: youtubeKeyPairs(YOUTUBE_DEMO_PROJECTS),
  }),
  // search.list on Google's current model: its own 100 calls a day per project (the watcher's default).
  create: ({ seed }) => new YoutubeSandbox({ seed, latencyMs: 50, searchCallsPerDay: 100, ownThumbnails: true }),
  simulation: youtubeSimulation,
};

export { YoutubeSandbox, YOUTUBE_DEMO_PROJECTS, youtubeKeyPairs, type SandboxProject } from './server';

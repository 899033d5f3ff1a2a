/**
 * The youtube-enrich pipeline's activities: prepare (distinct IDs → chunk files), fetch (a chunk through
 * the quota ledger), finalize (warehouse, missing IDs, manifest), and the key pool's shape for planning.
 * The API client is built once per worker from `deps.config`; keys never travel through history.
 */
import type { Deps } from '../../../activities/deps';
import { paths } from '../../../config';
import { inputBucket, ownBucketName } from '../../../sinks';
import { createYoutubeClient } from '../connector/client';
import { parseYoutubeKeys, projectsOf } from '../connector/keys';
import { createYoutubeClearActivities, createYoutubePrepareActivities } from './prepare';
import { createYoutubeFetchActivities } from './fetch';
import { createYoutubeFinalizeActivities } from './finalize';

export function createYoutubeActivities(deps: Deps) {
  const { config, bucket, warehouse } = deps;
  const client = createYoutubeClient(config);
  return {
    ...createYoutubePrepareActivities({
      bucket,
      inputDir: paths.input(config),
      s3: {
        ownName: ownBucketName(config),
        open: (name) => inputBucket(config, name),
      },
    }),
    ...createYoutubeClearActivities({ bucket }),
    ...createYoutubeFetchActivities({ config, bucket, client }),
    ...createYoutubeFinalizeActivities({ bucket, warehouse }),

    /** How many projects (quota buckets) and keys this worker has: fingerprints only. */
    async youtubePool(): Promise<{ projects: number; keys: number; fingerprints: string[] }> {
      const keys = parseYoutubeKeys(config.YOUTUBE_API_KEYS);
      return { projects: projectsOf(keys).length, keys: keys.length, fingerprints: keys.map((k) => k.fingerprint) };
    },
  };
}

export type YoutubeActivities = ReturnType<typeof createYoutubeActivities>;

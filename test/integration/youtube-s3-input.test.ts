/**
 * youtube-enrich's `--csv s3://<bucket>/<key>` beyond the configured bucket, on MinIO: a public bucket is read
 * anonymously (the notebook read its play log from one), a private one is refused with a message saying how to
 * read it (and is read once credentials are configured), and the configured bucket's own name still reads the
 * worker's bucket. The prepare activity runs as a worker runs it (its factory from the configuration).
 * Skipped when MinIO is not built (`scripts/setup.sh --all`).
 */
import fs from 'node:fs';
import { PutBucketPolicyCommand } from '@aws-sdk/client-s3';
import { MockActivityEnvironment } from '@temporalio/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config';
import { createBucket } from '../../src/sinks';
import type { S3Bucket } from '../../src/sinks/s3-bucket';
import { createYoutubeActivities } from '../../src/pipelines/youtube/activities/enrich';
import { fakeId } from '../../src/pipelines/youtube/sandbox/videos';
import type { Prepared } from '../../src/pipelines/youtube/activities/prepare';
import { liveAttempt } from '../helpers/activity';
import { minioExe, startMinio, type Minio } from '../helpers/production';
import { testDeps, tmpDir } from '../helpers/temporal';

const ids = Array.from({ length: 120 }, (_, i) => fakeId(3, 'playlog', i % 100)); // 100 distinct
const csv = 'song,plays\n' + ids.map((id, i) => `${id},${i}`).join('\n') + '\n';

describe.skipIf(!minioExe)('youtube-enrich reads s3:// inputs of other buckets (skipped: minio missing)', () => {
  let minio: Minio;
  let root: Record<string, string>;
  const dirs: string[] = [];
  beforeAll(async () => {
    minio = await startMinio('minio-youtube-input');
    for (const name of ['public-playlogs', 'private-playlogs']) {
      root = await minio.bucketEnv(name);
      const b = createBucket(parseConfig(root)) as S3Bucket;
      await b.put('2024/playlog.csv', csv);
      if (name === 'public-playlogs')
        await b.client.send(
          new PutBucketPolicyCommand({
            Bucket: name,
            Policy: JSON.stringify({
              Version: '2012-10-17',
              Statement: [
                {
                  Effect: 'Allow',
                  Principal: { AWS: ['*'] },
                  Action: ['s3:GetObject'],
                  Resource: [`arn:aws:s3:::${name}/*`],
                },
              ],
            }),
          }),
        );
      b.destroy();
    }
  });
  afterAll(async () => {
    await minio?.stop();
    for (const d of dirs) fs.rmSync(d, { recursive: true, force: true });
  });

  /** The prepare activity of a worker with this environment (local bucket unless it says otherwise). */
  async function prepare(env: Record<string, string>, source: string, workKey: string): Promise<Prepared> {
    const dir = tmpDir('longhaul-yt-s3-');
    dirs.push(dir);
    const local = testDeps(env, dir);
    // testDeps keeps a local bucket; a worker with BUCKET=s3 has its S3 bucket.
    const deps = env.BUCKET === 's3' ? { ...local, bucket: createBucket(local.config) } : local;
    try {
      const activities = createYoutubeActivities(deps);
      return (await new MockActivityEnvironment(liveAttempt()).run(activities.youtubePrepare, {
        workKey,
        csv: source,
        column: 'song',
        chunkSize: 50,
      })) as Prepared;
    } finally {
      await deps.warehouse.close();
    }
  }
  const service = () => ({ S3_ENDPOINT: root.S3_ENDPOINT!, S3_FORCE_PATH_STYLE: 'true' });
  const chain = (e: unknown) => {
    const out: string[] = [];
    for (let x = e; x instanceof Error; x = (x as { cause?: unknown }).cause) out.push(x.message);
    return out.join(' <- ');
  };

  it('a public bucket is read anonymously; a private one is refused, saying how to read it', async () => {
    const p = await prepare(service(), 's3://public-playlogs/2024/playlog.csv', 'yt/public');
    expect(p).toMatchObject({ rows: 120, distinct: 100, duplicates: 20, invalid: 0 });

    const refused = await prepare(service(), 's3://private-playlogs/2024/playlog.csv', 'yt/private').then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(chain(refused)).toMatch(
      /--csv: s3:\/\/private-playlogs\/2024\/playlog\.csv: access denied by the bucket private-playlogs \(read anonymously: it is not public; set S3_ACCESS_KEY_ID and S3_SECRET_ACCESS_KEY/,
    );
    const missing = await prepare(service(), 's3://public-playlogs/2024/nothing.csv', 'yt/missing').then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(chain(missing)).toMatch(/--csv: CSV not found in the bucket: s3:\/\/public-playlogs\/2024\/nothing\.csv/);
  });

  it('with credentials configured a private bucket is read; the configured bucket keeps its own name', async () => {
    const creds = {
      ...service(),
      S3_ACCESS_KEY_ID: root.S3_ACCESS_KEY_ID!,
      S3_SECRET_ACCESS_KEY: root.S3_SECRET_ACCESS_KEY!,
    };
    expect(await prepare(creds, 's3://private-playlogs/2024/playlog.csv', 'yt/private-creds')).toMatchObject({
      distinct: 100,
    });
    // A worker whose own bucket is S3: its name reads it (no other bucket involved).
    expect(
      await prepare({ ...root, S3_BUCKET: 'private-playlogs' }, 's3://private-playlogs/2024/playlog.csv', 'yt/own'),
    ).toMatchObject({ distinct: 100 });
  });
});

/**
 * The titelive pipeline with the bucket on MinIO (S3): raw pages, Parquet and every cover image land in
 * the S3 bucket; the Parquet downloaded from MinIO holds the warehouse's rows; each ok image's object
 * has the image host's exact bytes. Skipped when MinIO is not built (`scripts/setup.sh --all`).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { tool } from '../../src/dev/servers';
import { S3Bucket } from '../../src/sinks/s3-bucket';
import { titeliveSandbox } from '../../src/pipelines/titelive/sandbox';
import { TiteliveSandbox } from '../../src/pipelines/titelive/sandbox/server';
import { startMinioServer, type TestServer } from '../helpers/servers';
import { devServerEnv, testDeps, uniqueQueue } from '../helpers/temporal';
import { runTitelive } from '../helpers/titelive';

const minio = tool('minio');
const USER = 'longhaul-test';
const PASSWORD = 'longhaul-test-secret';

describe.skipIf(!minio)('titelive with the bucket on MinIO (skipped: .longhaul/bin/minio missing)', () => {
  let env: TestWorkflowEnvironment;
  let server: TestServer;
  let sandbox: TiteliveSandbox;
  let dataDir: string;
  let bucket: S3Bucket;
  beforeAll(async () => {
    env = await devServerEnv();
    dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'longhaul-minio-titelive-'));
    server = await startMinioServer({ name: 'minio-titelive', exe: minio!, dataDir, user: USER, password: PASSWORD });
    bucket = new S3Bucket({
      bucket: 'titelive',
      endpoint: server.url,
      forcePathStyle: true,
      credentials: { accessKeyId: USER, secretAccessKey: PASSWORD },
    });
    await bucket.ensureBucket();
    sandbox = new TiteliveSandbox({ seed: 9, catalog: { books: 300, music: 0 } });
    await sandbox.start();
  });
  afterAll(async () => {
    bucket?.destroy();
    await sandbox?.stop();
    await server?.stop();
    await env?.teardown();
    if (dataDir) fs.rmSync(dataDir, { recursive: true, force: true });
  });

  it('writes raw pages, Parquet and every image to MinIO (images under the chosen prefix)', async () => {
    const deps = { ...testDeps({ ...titeliveSandbox.env(sandbox.url), TITELIVE_IMAGE_POOL_SIZE: '4' }), bucket };
    const result = await runTitelive(env, deps, uniqueQueue('tl-minio'), {
      category: 'LIVRE',
      minModifiedDate: '2025-01-01',
      imageRetryDelay: '1s',
      imagePrefix: 'covers/fr',
      rawOutput: 'handoff/raw_products.parquet',
      imagesOutput: 'handoff/products_with_images.parquet',
    });
    const articles = sandbox.catalog.reduce((n, p) => n + p.articles.length, 0);
    expect(result).toMatchObject({ products: 300, rows: articles, pages: 3 });
    const raw = await bucket.list('titelive/raw/');
    expect(raw.filter((o) => o.key.endsWith('.ndjson.gz'))).toHaveLength(3);

    // The Parquet from MinIO holds exactly the warehouse rows.
    const local = path.join(deps.dir, 'from-minio.parquet');
    fs.writeFileSync(local, await bucket.get(result.parquet));
    const [{ pq, diff }] = await deps.warehouse.query<{ pq: number; diff: number }>(
      `SELECT (SELECT count(*) FROM read_parquet('${local}')) AS pq,
              (SELECT count(*) FROM (SELECT * FROM read_parquet('${local}') EXCEPT ALL SELECT * FROM titelive_products)) +
              (SELECT count(*) FROM (SELECT * FROM titelive_products EXCEPT ALL SELECT * FROM read_parquet('${local}'))) AS diff`,
    );
    expect({ pq, diff }).toEqual({ pq: articles, diff: 0 });

    // Every ok image is in MinIO with the host's bytes; the failed ones have a reason.
    const rows = await deps.warehouse.query<{ status: string; object_key: string; source_url: string; reason: string }>(
      'SELECT status, object_key, source_url, reason FROM titelive_images',
    );
    expect(rows).toHaveLength(articles * 2);
    const ok = rows.filter((r) => r.status === 'ok');
    expect(ok.length).toBe(result.images.ok);
    // Under the run's imagePrefix (the script's --gcs-thumb-base-path), none under the default.
    expect(ok.every((r) => /^covers\/fr\/[0-9a-f-]{36}$/.test(r.object_key))).toBe(true);
    expect((await bucket.list('covers/fr/')).length).toBe(new Set(ok.map((r) => r.object_key)).size);
    expect(await bucket.list('titelive/images/')).toEqual([]);
    for (const r of ok)
      expect((await bucket.get(r.object_key)).equals(sandbox.images.bytes(new URL(r.source_url).pathname))).toBe(true);
    expect(rows.filter((r) => r.status !== 'ok').every((r) => !!r.reason)).toBe(true);
    expect(sandbox.images.peakConnections).toBeLessThanOrEqual(4);

    // The hand-off files are in MinIO: the images file points at the S3 objects of the ok images.
    const images = path.join(deps.dir, 'images-from-minio.parquet');
    fs.writeFileSync(images, await bucket.get(result.imagesParquet!));
    const paths = await deps.warehouse.query<{ p: string; ok: boolean }>(
      `SELECT recto_gcs_path AS p, recto_upload_status.success AS ok FROM read_parquet('${images}')
       UNION ALL SELECT verso_gcs_path, verso_upload_status.success FROM read_parquet('${images}')`,
    );
    expect(paths).toHaveLength(articles * 2);
    expect(paths.filter((r) => r.ok)).toHaveLength(result.images.ok);
    expect(paths.filter((r) => r.ok).every((r) => /^s3:\/\/titelive\/covers\/fr\/[0-9a-f-]{36}$/.test(r.p))).toBe(true);

    // Parse only, reading the raw file back from MinIO through its s3:// URL.
    const again = await runTitelive(env, deps, uniqueQueue('tl-minio-parse'), {
      category: 'LIVRE',
      parseFrom: `s3://titelive/${result.rawParquet}`,
      images: false,
    });
    expect(again).toMatchObject({ products: 300, rows: articles, highWaterMark: null });
  });
});

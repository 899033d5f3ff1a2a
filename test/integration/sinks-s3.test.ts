/** The Bucket contract on a real S3 server: MinIO built by `scripts/setup.sh --all`, started per file. */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { HeadObjectCommand, ListMultipartUploadsCommand } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config';
import { tool } from '../../src/dev/servers';
import { createBucket } from '../../src/sinks';
import { S3Bucket, type S3BucketOptions } from '../../src/sinks/s3-bucket';
import { bucketContract, type TestServer } from '../helpers/sink-contracts';
import { startMinioServer } from '../helpers/servers';

const minio = tool('minio');
const USER = 'longhaul-test';
const PASSWORD = 'longhaul-test-secret';

if (!minio) console.warn('S3 tests skipped: .longhaul/bin/minio missing (scripts/setup.sh --all)');

describe.skipIf(!minio)('S3 bucket on MinIO', () => {
  let server: TestServer;
  let dataDir: string;
  const made: S3Bucket[] = [];
  const options = (bucket: string): S3BucketOptions => ({
    bucket,
    endpoint: server.url,
    forcePathStyle: true,
    credentials: { accessKeyId: USER, secretAccessKey: PASSWORD },
    partSize: 5 * 1024 * 1024,
  });
  const make = async (bucket: string) => {
    const b = new S3Bucket(options(bucket));
    made.push(b);
    await b.ensureBucket();
    return b;
  };

  beforeAll(async () => {
    dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'longhaul-minio-'));
    server = await startMinioServer({ name: 'minio', exe: minio!, dataDir, user: USER, password: PASSWORD });
  });
  afterAll(async () => {
    for (const b of made) b.destroy();
    await server?.stop();
    if (dataDir) fs.rmSync(dataDir, { recursive: true, force: true });
  });

  bucketContract('S3Bucket', {
    make: () => make('contract'),
    expectedUri: (key) => `s3://contract/${key}`,
  });

  describe('S3-specific behaviour', () => {
    it('ensureBucket creates a missing bucket and is idempotent', async () => {
      const b = await make('ensure-me');
      await b.ensureBucket();
      await b.put('k', 'v');
      expect((await b.get('k')).toString()).toBe('v');
    });

    it('uploads a large stream in parts with its content type; a failed one is aborted, not left behind', async () => {
      const b = await make('multipart');
      const part = Buffer.alloc(5 * 1024 * 1024, 7);
      await b.put('big.bin', Readable.from([part, part, Buffer.from('tail')]), { contentType: 'application/x-test' });
      const head = await b.client.send(new HeadObjectCommand({ Bucket: 'multipart', Key: 'big.bin' }));
      expect(head.ETag).toMatch(/-3"$/); // a multipart ETag ends with -<number of parts>
      expect(head.ContentType).toBe('application/x-test');
      expect(head.ContentLength).toBe(2 * part.length + 4);
      const failing = Readable.from(
        (async function* () {
          yield part;
          yield part;
          throw new Error('source failed');
        })(),
      );
      await expect(b.put('failed.bin', failing)).rejects.toThrow('source failed');
      expect(await b.exists('failed.bin')).toBe(false);
      const uploads = await b.client.send(new ListMultipartUploadsCommand({ Bucket: 'multipart' }));
      expect(uploads.Uploads ?? []).toEqual([]);
    });

    it('lists past one page of ListObjectsV2 (more than 1000 keys)', async () => {
      const b = await make('paging');
      const keys = Array.from({ length: 1005 }, (_, i) => `p/${String(i).padStart(4, '0')}`);
      for (let i = 0; i < keys.length; i += 50) await Promise.all(keys.slice(i, i + 50).map((k) => b.put(k, 'x')));
      const listed = await b.list('p/');
      expect(listed.length).toBe(1005);
      expect(listed.map((o) => o.key)).toEqual(keys);
    });

    it('refuses bad credentials', async () => {
      const b = new S3Bucket({ ...options('contract'), credentials: { accessKeyId: USER, secretAccessKey: 'wrong' } });
      made.push(b);
      await expect(b.put('k', 'v')).rejects.toThrow(/signature/i);
    });

    it('is what createBucket builds for BUCKET=s3', async () => {
      const config = parseConfig({
        BUCKET: 's3',
        S3_BUCKET: 'contract',
        S3_ENDPOINT: server.url,
        S3_FORCE_PATH_STYLE: 'true',
        S3_ACCESS_KEY_ID: USER,
        S3_SECRET_ACCESS_KEY: PASSWORD,
      });
      const b = createBucket(config);
      expect(b).toBeInstanceOf(S3Bucket);
      made.push(b as S3Bucket);
      await b.put('from-config/k', 'v');
      expect(await b.list('from-config/')).toEqual([{ key: 'from-config/k', size: 1, modified: expect.any(Date) }]);
    });
  });
});

describe('createBucket for BUCKET=s3', () => {
  it('names the variable that is missing', () => {
    expect(() => createBucket(parseConfig({ BUCKET: 's3' }))).toThrow('BUCKET=s3 needs S3_BUCKET');
    expect(() => createBucket(parseConfig({ BUCKET: 's3', S3_BUCKET: 'b', S3_ACCESS_KEY_ID: 'id' }))).toThrow(
      'BUCKET=s3 also needs S3_SECRET_ACCESS_KEY',
    );
    expect(() => createBucket(parseConfig({ BUCKET: 's3', S3_BUCKET: 'b', S3_SECRET_ACCESS_KEY: 's' }))).toThrow(
      'BUCKET=s3 also needs S3_ACCESS_KEY_ID',
    );
  });
  it('builds an S3 bucket without static credentials (the SDK default chain)', () => {
    const b = createBucket(parseConfig({ BUCKET: 's3', S3_BUCKET: 'b', S3_REGION: 'eu-west-3' }));
    expect(b.uri('k')).toBe('s3://b/k');
    (b as S3Bucket).destroy();
  });
});

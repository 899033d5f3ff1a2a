/**
 * Bucket on an S3-compatible store (AWS S3, MinIO, Google Cloud Storage through its XML interoperability
 * API). Every put goes through lib-storage's Upload: one PutObject for small bodies, a multipart upload
 * (aborted on failure) for large or streamed ones; either way the object appears whole or not at all.
 */
import { Readable } from 'node:stream';
import type * as S3 from '@aws-sdk/client-s3';
import type * as S3Storage from '@aws-sdk/lib-storage';
import { lazily } from '../node/lazily';
import { assertKey, type Body, type Bucket, type ObjectInfo, type PutOptions } from './bucket';

export interface S3BucketOptions {
  bucket: string;
  region?: string;
  /** Follow AWS's redirect to a bucket's own region (someone else's bucket, whose region we do not know). */
  followRegionRedirects?: boolean;
  /** Custom endpoint, e.g. http://127.0.0.1:9000 (MinIO) or https://storage.googleapis.com (GCS). */
  endpoint?: string;
  /** Path-style URLs (endpoint/bucket/key): needed by MinIO without DNS for buckets. */
  forcePathStyle?: boolean;
  /** Static credentials; when absent the SDK's default chain (env, profile, instance role) is used. */
  credentials?: { accessKeyId: string; secretAccessKey: string; sessionToken?: string };
  /**
   * Send the SDK's default CRC32 checksums on every request. Off by default on a custom endpoint: GCS and
   * older S3-compatible servers reject the checksum headers / aws-chunked bodies the SDK adds.
   */
  checksums?: boolean;
  /** Unsigned requests (a public bucket read without credentials); `credentials` is then ignored. */
  anonymous?: boolean;
  /** Multipart part size in bytes (S3 minimum 5 MiB; default 8 MiB). */
  partSize?: number;
  /** Parts uploaded at once; memory stays bounded by queueSize × partSize (default 4). */
  queueSize?: number;
}

/**
 * The AWS SDK, loaded with the first S3 bucket a process makes: a worker or a command on the local bucket (the
 * default) does not pay for it (see the BigQuery client in src/sinks/bigquery.ts for what the two cost).
 */
/* eslint-disable @typescript-eslint/no-require-imports -- loaded on first use, not with this module */
const sdk = lazily(() => ({
  s3: require('@aws-sdk/client-s3') as typeof S3,
  storage: require('@aws-sdk/lib-storage') as typeof S3Storage,
}));
/* eslint-enable @typescript-eslint/no-require-imports */

/** Placeholder credentials of an unsigned client (the SDK still resolves some; none are sent). */
const ANONYMOUS = { accessKeyId: 'anonymous', secretAccessKey: 'anonymous' };

const byKey = (a: ObjectInfo, b: ObjectInfo) => Buffer.compare(Buffer.from(a.key), Buffer.from(b.key));

function isNotFound(err: unknown): boolean {
  const e = err as { name?: string; $metadata?: { httpStatusCode?: number } };
  return e?.name === 'NotFound' || e?.name === 'NoSuchKey' || e?.$metadata?.httpStatusCode === 404;
}

export class S3Bucket implements Bucket {
  readonly kind = 's3' as const;
  readonly client: S3.S3Client;
  readonly bucket: string;
  /** Reads without credentials (S3BucketOptions.anonymous). */
  readonly anonymous: boolean;

  constructor(private readonly opts: S3BucketOptions) {
    if (!opts.bucket) throw new Error('S3Bucket needs a bucket name');
    this.bucket = opts.bucket;
    this.anonymous = opts.anonymous ?? false;
    const checksums = opts.checksums ?? !opts.endpoint;
    this.client = new (sdk().s3.S3Client)({
      region: opts.region ?? 'us-east-1',
      endpoint: opts.endpoint,
      forcePathStyle: opts.forcePathStyle,
      ...(opts.anonymous
        ? // No signature, no credentials looked up: what a browser or `aws s3 --no-sign-request` sends.
          { signer: { sign: (request: unknown) => Promise.resolve(request) } as never, credentials: ANONYMOUS }
        : { credentials: opts.credentials }),
      requestChecksumCalculation: checksums ? 'WHEN_SUPPORTED' : 'WHEN_REQUIRED',
      responseChecksumValidation: checksums ? 'WHEN_SUPPORTED' : 'WHEN_REQUIRED',
      followRegionRedirects: opts.followRegionRedirects,
    });
  }

  /** Creates the bucket if it does not exist (for MinIO and tests; production buckets are provisioned). */
  async ensureBucket(): Promise<void> {
    try {
      await this.client.send(new (sdk().s3.HeadBucketCommand)({ Bucket: this.bucket }));
      return;
    } catch (err) {
      if (!isNotFound(err)) throw err;
    }
    const region = this.opts.region ?? 'us-east-1';
    try {
      await this.client.send(
        new (sdk().s3.CreateBucketCommand)({
          Bucket: this.bucket,
          CreateBucketConfiguration:
            region === 'us-east-1' ? undefined : { LocationConstraint: region as S3.BucketLocationConstraint },
        }),
      );
    } catch (err) {
      // Created meanwhile by another process.
      if ((err as Error).name !== 'BucketAlreadyOwnedByYou') throw err;
    }
  }

  async put(key: string, body: Body, opts: PutOptions = {}): Promise<void> {
    assertKey(key);
    const upload = new (sdk().storage.Upload)({
      client: this.client,
      params: {
        Bucket: this.bucket,
        Key: key,
        Body: typeof body === 'string' ? Buffer.from(body) : body,
        ContentType: opts.contentType,
      },
      partSize: this.opts.partSize ?? 8 * 1024 * 1024,
      queueSize: this.opts.queueSize ?? 4,
      leavePartsOnError: false,
    });
    await upload.done();
  }

  async get(key: string): Promise<Buffer> {
    const chunks: Buffer[] = [];
    for await (const chunk of await this.getStream(key)) chunks.push(chunk as Buffer);
    return Buffer.concat(chunks);
  }

  async getStream(key: string): Promise<Readable> {
    assertKey(key);
    const res = await this.client.send(new (sdk().s3.GetObjectCommand)({ Bucket: this.bucket, Key: key }));
    if (!(res.Body instanceof Readable)) throw new Error(`${this.uri(key)}: the response has no readable body`);
    return res.Body;
  }

  async exists(key: string): Promise<boolean> {
    assertKey(key);
    try {
      await this.client.send(new (sdk().s3.HeadObjectCommand)({ Bucket: this.bucket, Key: key }));
      return true;
    } catch (err) {
      if (isNotFound(err)) return false;
      throw err;
    }
  }

  async list(prefix: string): Promise<ObjectInfo[]> {
    const out: ObjectInfo[] = [];
    for await (const page of sdk().s3.paginateListObjectsV2(
      { client: this.client },
      { Bucket: this.bucket, Prefix: prefix },
    )) {
      for (const o of page.Contents ?? [])
        if (o.Key !== undefined) out.push({ key: o.Key, size: o.Size ?? 0, modified: o.LastModified });
    }
    return out.sort(byKey);
  }

  async delete(key: string): Promise<void> {
    assertKey(key);
    await this.client.send(new (sdk().s3.DeleteObjectCommand)({ Bucket: this.bucket, Key: key }));
  }

  uri(key: string): string {
    assertKey(key);
    return `s3://${this.bucket}/${key}`;
  }

  /** Closes the client's keep-alive connections. */
  destroy(): void {
    this.client.destroy();
  }
}

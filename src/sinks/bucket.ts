/**
 * The bucket every pipeline writes files to. Two implementations: a local folder (default) and an
 * S3-compatible store (production; MinIO, GCS interoperability). Keys are '/'-separated paths.
 * Writes are whole-object and atomic: a retried write overwrites, never duplicates.
 */
import type { Readable } from 'node:stream';

export type Body = Buffer | string | Readable;

export interface PutOptions {
  contentType?: string;
}

export interface ObjectInfo {
  key: string;
  size: number;
  /** When the object was last written (the file's mtime; S3's LastModified). */
  modified?: Date;
}

export interface Bucket {
  readonly kind: 'local' | 's3';
  put(key: string, body: Body, opts?: PutOptions): Promise<void>;
  get(key: string): Promise<Buffer>;
  getStream(key: string): Promise<Readable>;
  exists(key: string): Promise<boolean>;
  list(prefix: string): Promise<ObjectInfo[]>;
  delete(key: string): Promise<void>;
  /** A URI for people and logs: file:///… or s3://bucket/key. */
  uri(key: string): string;
}

const KEY = /^(?!\/)(?!.*\/\/)(?!.*(^|\/)\.\.?(\/|$))[^\0\\]{1,1024}$/;

export function assertKey(key: string): void {
  if (!KEY.test(key)) throw new Error(`Invalid bucket key "${key}"`);
}

/**
 * Where a pipeline reads an input file named in its input (youtube-enrich's `--csv`, titelive's `--parse-from`):
 * an `s3://` URL, or a file on the worker's disk.
 *
 * On the worker's disk, a pipeline may read: only inside the configured input folder
 * (LONGHAUL_INPUT_DIR, default `<LONGHAUL_DATA_DIR>/input`). A relative path is taken inside it; the file's
 * real path (symlinks resolved) must stay inside the folder's real path, so `../`, absolute paths elsewhere,
 * `/proc/…` and symlinks pointing out are refused — before the file is opened, with an error that names the
 * flag and never says whether a file outside exists. Errors never quote file content (docs/security.md).
 */
import fs from 'node:fs';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { ApplicationFailure } from '@temporalio/activity';
import type { Bucket } from '../../sinks/bucket';
import { S3Bucket } from '../../sinks/s3-bucket';

const refuse = (message: string) => ApplicationFailure.nonRetryable(message, 'InvalidInput');

const inside = (root: string, p: string) => {
  const rel = path.relative(root, p);
  return rel !== '' && !rel.startsWith('..') && !path.isAbsolute(rel);
};

/**
 * The real path of `file` if it is a regular file inside `inputDir`; else a non-retryable InvalidInput
 * naming `flag` (`--csv`). The returned path is the one to open (no symlink left to swap).
 */
export async function resolveInputFile(file: string, inputDir: string, flag: string): Promise<string> {
  const outside = () =>
    refuse(
      `${flag}: ${file} is outside the worker's input folder (LONGHAUL_INPUT_DIR): put the file in that folder ` +
        `(a relative path is taken inside it) or in the bucket (s3://…)`,
    );
  if (file.includes('\0')) throw refuse(`${flag}: the path holds a NUL character`);
  const root = path.resolve(inputDir);
  const lexical = path.resolve(root, file);
  if (!inside(root, lexical)) throw outside();
  let realRoot: string;
  try {
    realRoot = await fs.promises.realpath(root);
  } catch {
    throw refuse(`${flag}: ${file} not found (the worker's input folder LONGHAUL_INPUT_DIR does not exist)`);
  }
  let real: string;
  try {
    real = await fs.promises.realpath(lexical);
  } catch {
    throw refuse(`${flag}: ${file} not found in the worker's input folder (LONGHAUL_INPUT_DIR)`);
  }
  if (!inside(realRoot, real)) throw outside();
  const st = await fs.promises.stat(real);
  if (!st.isFile()) throw refuse(`${flag}: ${file} is not a regular file`);
  return real;
}

/** Where `s3://` URLs of other buckets are read (src/sinks: the same S3 service, credentials or anonymous). */
export interface S3Inputs {
  /** The name URLs give the configured bucket. */
  ownName: string;
  open(name: string): S3Bucket;
}

export interface InputSource {
  bucket: Bucket;
  /** The worker's input folder (LONGHAUL_INPUT_DIR). */
  inputDir: string;
  s3?: S3Inputs;
}

/** An opened input: a stream, and the local path when it is a file on the worker's disk. */
export interface OpenedInput {
  stream(): Promise<Readable>;
  /** The real path on the worker's disk (an input-folder file), else undefined (read it through `stream`). */
  localPath?: string;
}

/**
 * Opens an input named by `ref`: `s3://<bucket>/<key>` through the configured bucket when it names it, else
 * through that bucket on the same S3 service (a public one read anonymously: the YouTube notebook's play log);
 * anything else only inside the worker's input folder (resolveInputFile). Errors are non-retryable
 * InvalidInput naming `flag`, except the S3 service's own faults (retried). `what` names the file in the
 * "not found" message ("CSV", "raw Parquet file").
 */
export async function openInput(ref: string, src: InputSource, flag: string, what: string): Promise<OpenedInput> {
  const { bucket, s3 } = src;
  const m = /^s3:\/\/([^/]+)\/(.+)$/.exec(ref);
  if (m) {
    const [, name, key] = m as unknown as [string, string, string];
    const own = name === (bucket instanceof S3Bucket ? bucket.bucket : (s3?.ownName ?? name));
    if (!own && !s3)
      throw refuse(
        `${flag}: ${ref} is not in the configured bucket (${bucket.uri('')}): copy it there or into the input folder`,
      );
    const other = own ? undefined : s3!.open(name);
    const from = other ?? bucket;
    let found: boolean;
    try {
      found = await from.exists(key);
    } catch (err) {
      const status = (err as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
      if (other && status === 403)
        throw refuse(
          `${flag}: ${ref}: access denied by the bucket ${name}` +
            (other.anonymous
              ? ' (read anonymously: it is not public; set S3_ACCESS_KEY_ID and S3_SECRET_ACCESS_KEY to read it with credentials)'
              : " (with the worker's S3 credentials)"),
        );
      if (other && (status === undefined || status >= 500)) throw err; // the service or the network: retried
      throw refuse(`${flag}: ${ref} is not a valid bucket key`);
    }
    if (!found) throw refuse(`${flag}: ${what} not found in the bucket: ${ref}`);
    return { stream: () => from.getStream(key) };
  }
  const real = await resolveInputFile(ref, src.inputDir, flag);
  return { stream: async () => fs.createReadStream(real), localPath: real };
}

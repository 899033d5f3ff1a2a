/**
 * Raw landing: a downloaded file is written to the bucket as received (gzipped) before anything parses it,
 * under a deterministic key, so a load reads the landed copy with the warehouse's own loader, a retried
 * attempt does not download it again, and a window can be loaded again later without the API (the report's
 * links expire). A `manifest.json` beside the parts says what they are, written last: a landing with a
 * manifest is complete. docs/architecture.md, "Raw landing and native loads".
 */
import zlib from 'node:zlib';
import { pipeline } from 'node:stream/promises';
import type { Readable } from 'node:stream';
import { ApplicationFailure } from '@temporalio/common';
import type { Bucket, ObjectInfo } from '../../sinks/bucket';

/** The prefix of every landed file. */
export const LANDED_PREFIX = 'landed';

/** What a landing holds (its manifest). */
export interface LandedManifest<M = Record<string, unknown>> {
  /** The parts' keys, in order. */
  parts: string[];
  landedAt: string;
  /** What the pipeline needs to load the parts again (e.g. the report's configuration and window). */
  meta: M;
}

/** `landed/<segments…>`: each segment made safe for a key (letters, digits, `._=-`). */
export function landedPrefix(...segments: string[]): string {
  return [LANDED_PREFIX, ...segments.map((s) => s.replace(/[^A-Za-z0-9._=-]/g, '_') || '_')].join('/');
}

export const partKey = (prefix: string, i: number, ext: string) =>
  `${prefix}/part-${String(i).padStart(5, '0')}.${ext}.gz`;
export const manifestKey = (prefix: string) => `${prefix}/manifest.json`;

/**
 * Lands part `i` of a download unless it already is (a put is atomic: a key present is a whole file),
 * gzipping it on the way (level 1: the landing costs little CPU). Returns its key.
 */
export async function landPart(
  bucket: Bucket,
  prefix: string,
  i: number,
  ext: string,
  open: () => Promise<Readable>,
): Promise<string> {
  const key = partKey(prefix, i, ext);
  if (await bucket.exists(key)) return key;
  const source = await open();
  const gz = zlib.createGzip({ level: 1 });
  // A broken download fails the gzip stream, and with it the put (which then leaves nothing).
  const piping = pipeline(source, gz).catch((e: unknown) => gz.destroy(e as Error));
  await bucket.put(key, gz, { contentType: 'application/gzip' });
  await piping;
  return key;
}

/** Writes the manifest: the landing is complete. */
export async function landManifest<M>(bucket: Bucket, prefix: string, parts: string[], meta: M): Promise<void> {
  const manifest: LandedManifest<M> = { parts, landedAt: new Date().toISOString(), meta };
  await bucket.put(manifestKey(prefix), JSON.stringify(manifest, null, 2) + '\n', {
    contentType: 'application/json',
  });
}

/**
 * Part `i` of a complete landing, for a load again from it: its key, once the part is found (a landing whose
 * part is gone fails the load, not retried).
 */
export async function landedPartKey(bucket: Bucket, manifest: LandedManifest<unknown>, i: number): Promise<string> {
  const key = manifest.parts[i]!;
  if (!(await bucket.exists(key)))
    throw ApplicationFailure.nonRetryable(`landed file ${key} is missing: the landing is incomplete`, 'NotLanded');
  return key;
}

/** A landed part, gunzipped, as a stream (for the JavaScript readers). */
export async function openLanded(bucket: Bucket, key: string): Promise<Readable> {
  const source = await bucket.getStream(key);
  const gunzip = zlib.createGunzip();
  source.once('error', (e) => gunzip.destroy(e));
  // A reader that stops early destroys the gunzip stream: the bucket's stream goes with it (`pipe` would
  // leave it open, paused).
  gunzip.once('close', () => source.destroy());
  return source.pipe(gunzip);
}

/**
 * The complete landings under `prefix` (those with a manifest), newest first: what a reload reads, and what
 * retention keeps or removes.
 */
export async function landingsUnder<M>(
  bucket: Bucket,
  prefix: string,
): Promise<(LandedManifest<M> & { prefix: string })[]> {
  const manifests = (await bucket.list(prefix)).filter((o) => o.key.endsWith('/manifest.json'));
  const out: (LandedManifest<M> & { prefix: string })[] = [];
  for (const m of manifests) {
    const manifest = JSON.parse((await bucket.get(m.key)).toString('utf8')) as LandedManifest<M>;
    out.push({ ...manifest, prefix: m.key.slice(0, -'/manifest.json'.length) });
  }
  return out.sort((a, b) => (a.landedAt < b.landedAt ? 1 : a.landedAt > b.landedAt ? -1 : 0));
}

/**
 * How recently written an incomplete landing is still taken for one in flight — another run of the same window
 * and report configuration (another workflow) downloading its parts — and kept: 2 hours. A load attempt lives at
 * most an hour (its start-to-close timeout), so a live one has written a part within the last hour; the second
 * hour covers clocks that differ (an S3 object's time is the store's).
 */
export const INCOMPLETE_LANDING_GRACE_MS = 2 * 3600_000;

/**
 * Retention: of the landings under `prefix` (one window of one report configuration), keeps `current` (just
 * loaded) and the newest `keep - 1` other complete ones, and deletes the rest — older landings and incomplete
 * ones (an attempt whose report was asked again) whose last part was written more than `graceMs` ago (a
 * younger one may be another run's, still landing). A landing's manifest goes first: one half deleted is never
 * taken for complete. Returns how many landings it deleted.
 */
export async function pruneLandings(
  bucket: Bucket,
  prefix: string,
  current: string,
  keep: number,
  { now = Date.now(), graceMs = INCOMPLETE_LANDING_GRACE_MS }: { now?: number; graceMs?: number } = {},
): Promise<number> {
  const under = `${prefix.replace(/\/$/, '')}/`;
  const complete = await landingsUnder(bucket, under);
  const kept = new Set([
    current,
    ...complete
      .filter((l) => l.prefix !== current)
      .slice(0, Math.max(0, keep - 1))
      .map((l) => l.prefix),
  ]);
  const landings = new Map<string, ObjectInfo[]>();
  for (const o of await bucket.list(under)) {
    const landing = o.key.slice(0, o.key.lastIndexOf('/'));
    if (!landings.has(landing)) landings.set(landing, []);
    landings.get(landing)!.push(o);
  }
  let deleted = 0;
  for (const [landing, objects] of landings) {
    if (kept.has(landing)) continue;
    const keys = objects.map((o) => o.key);
    const manifest = manifestKey(landing);
    if (!keys.includes(manifest)) {
      // Incomplete: deleted once nothing was written to it for `graceMs` (a bucket that gives no time: kept).
      // Younger ones (above all an attempt whose report was just asked again) wait for a later load of the
      // window, or the bucket's lifecycle rule.
      const last = Math.max(...objects.map((o) => o.modified?.getTime() ?? Infinity));
      if (!(now - last > graceMs)) continue;
    } else await bucket.delete(manifest);
    for (const k of keys) if (k !== manifest) await bucket.delete(k);
    deleted++;
  }
  return deleted;
}

/**
 * youtube-enrich, step 1: the distinct video IDs of the input, as sorted chunk files in the bucket, without
 * ever holding them in workflow history. The CSV (s3://… in the bucket, or a file inside the worker's input
 * folder LONGHAUL_INPUT_DIR — kit/activity/input.ts) is streamed, IDs are checked
 * (11 URL-safe characters), hash-partitioned into temporary files, and each partition is deduplicated and
 * sorted on its own, so memory stays bounded by one partition (or by `limit`, which keeps the first
 * `limit` distinct IDs in input order). The activity returns counts and the chunk count only, and is
 * idempotent: a rerun finds `prepared.json` and returns it.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import readline from 'node:readline';
import { randomUUID } from 'node:crypto';
import type { Readable } from 'node:stream';
import { parse } from 'csv-parse';
import { ApplicationFailure, Context } from '@temporalio/activity';
import type { Bucket } from '../../../sinks/bucket';
import { VIDEO_ID } from '../connector/enums';
import { openInput, type S3Inputs } from '../../../kit/activity/input';

export interface PrepareArgs {
  workKey: string;
  csv?: string;
  column: string;
  ids?: string[];
  limit?: number;
  chunkSize: number;
}

export interface Prepared {
  rows: number;
  distinct: number;
  duplicates: number;
  invalid: number;
  /**
   * Where the first invalid values are: CSV line numbers (or positions in the inline list), never the values
   * (they would land in history and the manifest, and may be anything the file holds).
   */
  invalidLines: number[];
  chunks: number;
  chunkSize: number;
}

const PARTITIONS = 64;
export const chunkKey = (workKey: string, chunk: number) =>
  `${workKey}/ids/chunk-${String(chunk).padStart(6, '0')}.txt`;
export const preparedKey = (workKey: string) => `${workKey}/prepared.json`;

function partitionOf(id: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < id.length; i++) h = Math.imul(h ^ id.charCodeAt(i), 0x01000193) >>> 0;
  return h % PARTITIONS;
}

/**
 * The values of one column, each with its line number. Errors name the flag and give counts and line
 * numbers only: a header or a value may be anything the file holds (a secret), so none is ever quoted.
 */
async function* csvColumn(stream: Readable, column: string): AsyncGenerator<{ value: string; line: number }> {
  const parser = stream.pipe(
    parse({
      bom: true,
      skip_empty_lines: true,
      relax_column_count: true,
      trim: true,
      info: true,
      columns: (header: string[]) => {
        if (!header.includes(column))
          throw ApplicationFailure.nonRetryable(
            `--column: "${column}" is not a column of the CSV header (which has ${header.length} column(s); ` +
              `header names are not shown: they are file content)`,
            'InvalidInput',
          );
        return header;
      },
    }),
  );
  try {
    for await (const rec of parser as AsyncIterable<{ record: Record<string, string>; info: { lines: number } }>)
      yield { value: rec.record[column] ?? '', line: rec.info.lines };
  } catch (err) {
    if (err instanceof ApplicationFailure) throw err;
    // A malformed file (csv-parse's CSV_* errors) reads the same on every attempt: fail at once, naming the
    // line and the kind of fault — never csv-parse's message, which may quote the field.
    const { code, lines } = err as { code?: unknown; lines?: unknown };
    if (typeof code === 'string' && code.startsWith('CSV_'))
      throw ApplicationFailure.nonRetryable(
        `--csv: malformed CSV${typeof lines === 'number' ? ` at line ${lines}` : ''} (${code})`,
        'InvalidInput',
      );
    throw err;
  }
}

async function* inline(ids: string[]): AsyncGenerator<{ value: string; line: number }> {
  yield* ids.map((s, i) => ({ value: s.trim(), line: i + 1 }));
}

export function createYoutubePrepareActivities({
  bucket,
  inputDir,
  s3,
}: {
  bucket: Bucket;
  inputDir: string;
  s3?: S3Inputs;
}) {
  return {
    async youtubePrepare(args: PrepareArgs): Promise<Prepared> {
      if (await bucket.exists(preparedKey(args.workKey))) {
        const p = JSON.parse((await bucket.get(preparedKey(args.workKey))).toString('utf8')) as Prepared & {
          invalidSample?: unknown;
        };
        // Written by an older version: its invalidSample held values, which must not reach history.
        delete p.invalidSample;
        return { ...p, invalidLines: p.invalidLines ?? [] };
      }
      const ctx = Context.current();
      const source = args.csv
        ? csvColumn(await (await openInput(args.csv, { bucket, inputDir, s3 }, '--csv', 'CSV')).stream(), args.column)
        : inline(args.ids ?? []);
      const dir = await fs.promises.mkdtemp(path.join(os.tmpdir(), `longhaul-yt-${randomUUID().slice(0, 8)}-`));
      try {
        const files = Array.from({ length: PARTITIONS }, (_, i) => path.join(dir, `p${i}.txt`));
        const buffers: string[][] = files.map(() => []);
        const flush = async (i: number) => {
          if (buffers[i].length) await fs.promises.appendFile(files[i], buffers[i].join('\n') + '\n');
          buffers[i] = [];
        };
        const seen = args.limit ? new Set<string>() : undefined;
        const invalidLines: number[] = [];
        let rows = 0;
        let invalid = 0;
        let valid = 0;
        for await (const { value: raw, line } of source) {
          rows++;
          if (rows % 50_000 === 0) ctx.heartbeat({ rows });
          if (!VIDEO_ID.test(raw)) {
            invalid++;
            if (invalidLines.length < 20) invalidLines.push(line);
            continue;
          }
          valid++;
          if (seen) {
            if (seen.has(raw)) continue;
            seen.add(raw);
          }
          const p = partitionOf(raw);
          buffers[p].push(raw);
          if (buffers[p].length >= 4096) await flush(p);
          if (seen && seen.size >= args.limit!) break;
        }
        for (let i = 0; i < PARTITIONS; i++) await flush(i);

        // Each partition deduplicated and sorted on its own; chunks cut from the concatenation.
        let distinct = 0;
        let chunks = 0;
        let pending: string[] = [];
        const emit = async () => {
          await bucket.put(chunkKey(args.workKey, chunks++), pending.join('\n') + '\n', { contentType: 'text/plain' });
          pending = [];
        };
        for (const file of files) {
          if (!fs.existsSync(file)) continue;
          const ids = new Set<string>();
          const lines = readline.createInterface({ input: fs.createReadStream(file), crlfDelay: Infinity });
          for await (const line of lines) if (line) ids.add(line);
          for (const id of [...ids].sort()) {
            pending.push(id);
            distinct++;
            if (pending.length === args.chunkSize) await emit();
          }
          ctx.heartbeat({ rows, distinct });
        }
        if (pending.length) await emit();
        const out: Prepared = {
          rows,
          distinct,
          duplicates: valid - distinct,
          invalid,
          invalidLines,
          chunks,
          chunkSize: args.chunkSize,
        };
        await bucket.put(preparedKey(args.workKey), JSON.stringify(out), { contentType: 'application/json' });
        return out;
      } finally {
        await fs.promises.rm(dir, { recursive: true, force: true });
      }
    },
  };
}

/**
 * `--refresh`: forgets what a work area holds (prepared IDs, fetched batches, done records), so the run
 * prepares and fetches everything again. Idempotent: a retried attempt deletes what is left.
 */
export function createYoutubeClearActivities({ bucket }: { bucket: Bucket }) {
  return {
    async youtubeClearWork(args: { workKey: string }): Promise<{ deleted: number }> {
      const ctx = Context.current();
      let deleted = 0;
      for (const o of await bucket.list(`${args.workKey}/`)) {
        await bucket.delete(o.key);
        if (++deleted % 500 === 0) ctx.heartbeat({ deleted });
      }
      return { deleted };
    },
  };
}

/** Reads a chunk's IDs back (fetch activity). */
export async function readChunk(bucket: Bucket, workKey: string, chunk: number): Promise<string[]> {
  return (await bucket.get(chunkKey(workKey, chunk))).toString('utf8').split('\n').filter(Boolean);
}

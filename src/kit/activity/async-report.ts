/**
 * The activities of a declarative async-report source (spec.ts): identify the account, create a report (with
 * the idempotency key the workflow gives), read its status, and download its files — each landed in the bucket
 * as received before it is read — and load them into the declared table in one atomic write. The API's variables are read from the configuration's environment with the
 * spec's names; errors follow the kit's taxonomy (auth, rate_limited with Retry-After, transient, refused,
 * not_found) and become Temporal failures through `toActivityFailure`. Node-only.
 */
import { Readable } from 'node:stream';
import type { ReadableStream as WebReadableStream } from 'node:stream/web';
import { createGunzip } from 'node:zlib';
import { Context } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import { z } from 'zod';
import type { Deps } from '../../activities/deps';
import { ConfigError } from '../../config';
import { fingerprint } from '../../node/fingerprint';
import { logger } from '../../node/logger';
import { fnv1a64, identityHash } from '../../shared/identity-hash';
import { emptyParseStats } from '../../sinks/file-rows';
import { replaceRangeOf, RowsOutsideRangeError, type WriteMode } from '../../sinks/warehouse';
import type { DateWindow } from '../../shared/dates';
import { ApiError, parseRetryAfter, toActivityFailure } from './http';
import { heartbeating } from './heartbeat';
import { chaosPoint } from './chaos-points';
import { BadRowsError, CsvHeaderError, fileBatches } from './csv';
import {
  landedPartKey,
  landedPrefix,
  landingsUnder,
  landManifest,
  landPart,
  openLanded,
  pruneLandings,
} from './landing';
import { loadLandedCsv } from './load-landed';
import {
  activityNames,
  jsonPath,
  jsonString,
  REPORT_EXPIRED,
  type AsyncReportSpec,
  type ReportState,
} from '../async-report/spec';

export interface ReportStatus {
  state: ReportState;
  /** The download links, once ready. */
  links: string[];
  /** The API's reason, when it failed. */
  error?: string;
}

export interface LoadedReport {
  rows: number;
  files: number;
  /** Bytes downloaded by this attempt (files an earlier attempt landed are not downloaded again). */
  bytes: number;
}

/** An API error of a source: the kit's taxonomy, named after the API. */
export class SourceApiError extends ApiError {
  override name = 'SourceApiError';
}

const TIMEOUT_MS = 60_000;

/** The category of an HTTP answer's status (2xx never comes here). */
function categoryOf(status: number): ApiError['category'] {
  if (status === 401 || status === 403) return 'auth';
  if (status === 429) return 'rate_limited';
  if (status === 404) return 'not_found';
  if (status >= 500 || status === 408) return 'transient';
  return 'refused';
}

/** The source's variables from the configuration's environment (a bad one is named). */
function settings(spec: AsyncReportSpec, deps: Deps) {
  const { baseUrl, token } = spec.env;
  const schema = z.object({
    [baseUrl.name]: z.url().default(baseUrl.default),
    [token.name]: z.string().min(1).optional(),
  });
  const res = schema.safeParse(deps.config.env);
  if (!res.success)
    throw new ConfigError(
      `Invalid environment configuration:\n${res.error.issues.map((i) => `  ${i.path.join('.')}: ${i.message}`).join('\n')}`,
    );
  return {
    baseUrl: String(res.data[baseUrl.name]).replace(/\/$/, ''),
    token: res.data[token.name] as string | undefined,
  };
}

export function createAsyncReportActivities(spec: AsyncReportSpec) {
  const names = activityNames(spec.name);
  return (deps: Deps) => {
    const conf = () => settings(spec, deps);
    const token = () => {
      const t = conf().token;
      if (!t)
        throw new SourceApiError('auth', `${spec.env.token.name} is not set: the ${spec.label} API needs a token`);
      return t;
    };

    /** One call to the API: JSON in and out, errors in the kit's taxonomy. */
    async function request(
      method: 'GET' | 'POST',
      url: string,
      init: { body?: unknown; headers?: Record<string, string> } = {},
    ) {
      let res: Response;
      try {
        res = await fetch(url, {
          method,
          headers: {
            authorization: `Bearer ${token()}`,
            accept: 'application/json',
            ...(init.body !== undefined ? { 'content-type': 'application/json' } : {}),
            ...init.headers,
          },
          body: init.body === undefined ? undefined : JSON.stringify(init.body),
          signal: AbortSignal.timeout(TIMEOUT_MS),
        });
      } catch (err) {
        if (err instanceof SourceApiError) throw err;
        // No answer: a POST may have been applied (the idempotency key makes its retry safe).
        throw new SourceApiError(
          'transient',
          `${spec.label} ${method} ${new URL(url).pathname}: ${(err as Error).message}`,
          {
            ambiguous: method === 'POST',
          },
        );
      }
      const text = await res.text().catch(() => '');
      if (!res.ok)
        throw new SourceApiError(
          categoryOf(res.status),
          `${spec.label} ${method} ${new URL(url).pathname} answered ${res.status}${text ? `: ${text.slice(0, 200)}` : ''}`,
          {
            status: res.status,
            retryAfterMs: parseRetryAfter(res.headers.get('retry-after')),
            ambiguous: res.status >= 500 && method === 'POST',
          },
        );
      try {
        return JSON.parse(text) as unknown;
      } catch {
        throw new SourceApiError(
          'transient',
          `${spec.label} ${method} ${new URL(url).pathname}: the answer is not JSON`,
        );
      }
    }

    /** Runs an activity body heartbeating, its errors made Temporal failures. */
    const failing = async <T>(fn: () => Promise<T>): Promise<T> => {
      try {
        return await heartbeating(fn);
      } catch (err) {
        // What the files say will not change on a retry: a row that does not type, a header or field the
        // table does not declare, a row outside its window.
        if (err instanceof BadRowsError || err instanceof CsvHeaderError || err instanceof RowsOutsideRangeError)
          throw ApplicationFailure.nonRetryable(err.message, err.name);
        throw toActivityFailure(err);
      }
    };

    /** A file of a ready report, gunzipped if it is gzip. */
    async function openFile(link: string, counted: { bytes: number }): Promise<Readable> {
      const url = new URL(link, conf().baseUrl + '/').toString();
      const res = await fetch(url, {
        headers: { authorization: `Bearer ${token()}` },
        signal: AbortSignal.timeout(10 * TIMEOUT_MS),
      });
      if (res.status === 410 || res.status === 404)
        throw ApplicationFailure.nonRetryable(
          `${spec.label} report file ${new URL(url).pathname} is gone (${res.status})`,
          REPORT_EXPIRED,
        );
      if (!res.ok || !res.body)
        throw new SourceApiError(
          categoryOf(res.status),
          `${spec.label} download ${new URL(url).pathname} answered ${res.status}`,
          {
            status: res.status,
            retryAfterMs: parseRetryAfter(res.headers.get('retry-after')),
          },
        );
      const raw = Readable.fromWeb(res.body as WebReadableStream<Uint8Array>);
      raw.on('data', (c: Buffer) => (counted.bytes += c.length));
      // gzip by its magic bytes (whatever the headers say): peek at the first chunk.
      const first: Buffer | null = await new Promise((resolve, reject) => {
        raw.once('readable', () => resolve(raw.read() as Buffer | null));
        raw.once('error', reject);
      });
      const body = Readable.from(
        (async function* () {
          if (first) yield first;
          for await (const c of raw) yield c as Buffer;
        })(),
      );
      if (first && first[0] === 0x1f && first[1] === 0x8b) {
        const gunzip = createGunzip();
        body.once('error', (e) => gunzip.destroy(e));
        return body.pipe(gunzip);
      }
      return body;
    }

    /** landed/<source>/<table>/<window>/<options>: where a window's reports of these options land. */
    const windowPrefix = (i: { window: DateWindow; options: Record<string, unknown> }) =>
      landedPrefix(spec.name, spec.table.name, `${i.window.start}_${i.window.end}`, identityHash(i.options));

    /**
     * Loads a window's parts (each landed by `land` before it is read) into the declared table in one write:
     * CSV by the warehouse's own reader where it has one (loadLandedCsv), NDJSON by the kit's reader from the
     * landed copies. A table that replaces ranges replaces the window (a rerun never duplicates), else the
     * declared disposition. Landings: docs/architecture.md.
     */
    async function loadParts(
      input: { window: DateWindow; options: Record<string, unknown> },
      files: { parts: number; land: (i: number) => Promise<string>; landed?: (keys: string[]) => Promise<void> },
    ): Promise<{ rows: number; files: number }> {
      const mode: WriteMode | undefined =
        spec.table.write?.kind === 'replaceRange'
          ? replaceRangeOf(
              spec.table,
              input.window.start,
              input.window.end,
              // The rows of this configuration only (e.g. one attribution window): never another's.
              Object.fromEntries((spec.table.write.ownedBy ?? []).map((c) => [c, String(input.options[c])])),
            )
          : undefined;
      await deps.warehouse.ensureTable(spec.table);
      const signal = Context.current().cancellationSignal;
      let rows: number;
      if (spec.download.format === 'csv') {
        const r = await loadLandedCsv(
          deps,
          spec.table,
          { ...files, fileColumns: spec.table.columns, maxBadRows: 0 },
          mode,
          {
            signal,
          },
        );
        // A merge counts the rows after its keys' repeats are folded: only the other dispositions load every row.
        if (spec.table.write?.kind !== 'merge' && r.rowsLoaded !== r.rowsParsed - r.badRows)
          throw new Error(`row count mismatch: ${r.rowsParsed - r.badRows} good rows parsed, ${r.rowsLoaded} loaded`);
        rows = r.rowsLoaded;
      } else {
        const keys: string[] = [];
        for (let i = 0; i < files.parts; i++) keys.push(await files.land(i));
        await files.landed?.(keys);
        const stats = emptyParseStats();
        const batches = fileBatches(
          'ndjson',
          spec.table,
          keys.length,
          (i) => openLanded(deps.bucket, keys[i]!),
          stats,
          5000,
          0,
        );
        rows = (await deps.warehouse.load(spec.table, batches, mode, { signal })).rowsLoaded;
      }
      chaosPoint('async-report.load.after-commit');
      return { rows, files: files.parts };
    }

    return {
      /** The account's fingerprint (of the token): names the account's limits; the token never leaves. */
      async [names.account](): Promise<string> {
        return failing(async () => fingerprint(token()));
      },

      /** Asks for a report of `window`; the same idempotency key gives back the same report. */
      async [names.create](input: {
        window: DateWindow;
        options: Record<string, unknown>;
        idempotencyKey: string;
      }): Promise<string> {
        return failing(async () => {
          const body = spec.create.body({ from: input.window.start, to: input.window.end }, input.options);
          const answer = await request('POST', conf().baseUrl + spec.create.path, {
            body,
            headers: spec.create.idempotencyHeader ? { [spec.create.idempotencyHeader]: input.idempotencyKey } : {},
          });
          chaosPoint('async-report.create.after-call');
          const id = jsonString(answer, spec.create.idPath);
          if (!id)
            throw new SourceApiError(
              'transient',
              `${spec.label} create answered no report id at ${spec.create.idPath}`,
            );
          return id;
        });
      },

      /** The report's state in the kit's words, and its links once ready. */
      async [names.status](reportId: string): Promise<ReportStatus> {
        return failing(async () => {
          const path = spec.status.path.replace('{id}', encodeURIComponent(reportId));
          const answer = await request('GET', conf().baseUrl + path);
          const word = jsonString(answer, spec.status.statePath);
          const state = word === undefined ? undefined : spec.status.states[word];
          if (!state)
            throw new SourceApiError(
              'refused',
              `${spec.label} report ${reportId}: status ${JSON.stringify(word)} at ${spec.status.statePath} is not one ` +
                `the source knows (${Object.keys(spec.status.states).join(', ')})`,
            );
          const links = state === 'ready' ? jsonPath(answer, spec.status.linksPath).map(String) : [];
          if (state === 'ready' && !links.length)
            throw new SourceApiError(
              'transient',
              `${spec.label} report ${reportId} is ready without links at ${spec.status.linksPath}`,
            );
          const error = spec.status.errorPath ? jsonString(answer, spec.status.errorPath) : undefined;
          return { state, links, ...(error ? { error } : {}) };
        });
      },

      /**
       * Downloads the report's files, landing each in the bucket as received (gzipped) before it is read —
       * a retried attempt finds them there and does not download them again — and loads them (loadParts).
       */
      async [names.load](input: {
        reportId: string;
        links: string[];
        window: DateWindow;
        options: Record<string, unknown>;
      }): Promise<LoadedReport> {
        return failing(async () => {
          const counted = { bytes: 0 };
          const ext = spec.download.format;
          const prefix = `${windowPrefix(input)}/${fnv1a64(`${spec.name}:${input.reportId}`)}`;
          const loaded = await loadParts(input, {
            parts: input.links.length,
            land: (i) => landPart(deps.bucket, prefix, i, ext, () => openFile(input.links[i]!, counted)),
            landed: async (keys) => {
              await landManifest(deps.bucket, prefix, keys, { window: input.window, options: input.options });
              chaosPoint('async-report.load.after-landing');
            },
          });
          // Retention: this landing and the newest LANDED_KEEP - 1 others of the window and options stay.
          await pruneLandings(deps.bucket, windowPrefix(input), prefix, deps.config.LANDED_KEEP ?? 2).catch(
            (err: unknown) => logger.warn({ err: String(err), prefix }, 'could not delete older landings'),
          );
          return { ...loaded, bytes: counted.bytes };
        });
      },

      /**
       * Loads a window again from the newest complete landing of its options (`--from-landed`), without asking
       * the API: e.g. after a schema change or a warehouse incident, or once the report's files have expired.
       */
      async [names.loadLanded](input: { window: DateWindow; options: Record<string, unknown> }): Promise<LoadedReport> {
        return failing(async () => {
          const under = `${windowPrefix(input)}/`;
          const manifest = (await landingsUnder(deps.bucket, under))[0];
          if (!manifest)
            throw ApplicationFailure.nonRetryable(
              `no landed ${spec.label} report for ${input.window.start}..${input.window.end} with these options ` +
                `(under ${under}): run without --from-landed to ask the API`,
              'NotLanded',
            );
          const loaded = await loadParts(input, {
            parts: manifest.parts.length,
            land: (i) => landedPartKey(deps.bucket, manifest, i),
          });
          return { ...loaded, bytes: 0 };
        });
      },
    } as Record<string, (...args: never[]) => Promise<unknown>>;
  };
}

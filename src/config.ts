/**
 * Process configuration from environment variables (and an optional `.env` file), validated by zod at
 * start-up. A bad value stops the process with a message that names the variable.
 * Credentials live here and are read by activities/connectors only — never passed to workflows.
 */
import path from 'node:path';
import { z } from 'zod';
import { parseDuration } from './shared/durations';

const ROOT = path.resolve(__dirname, '..');

const optionalUrl = z.url().optional();
const csv = z
  .string()
  .optional()
  .transform((s) =>
    s
      ? s
          .split(',')
          .map((x) => x.trim())
          .filter(Boolean)
      : [],
  );

/** A Worker Deployment's name (LONGHAUL_DEPLOYMENT, `longhaul deploy --deployment`). */
export const DEPLOYMENT_NAME = /^[A-Za-z0-9_-]{1,200}$/;
export const DEPLOYMENT_NAME_RULE =
  'letters, digits, _ and - only (no dot: Temporal joins it to the build ID with one)';

export const envSchema = z.object({
  LONGHAUL_DATA_DIR: z.string().default(path.join(ROOT, 'data')),
  LONGHAUL_HOME: z.string().default(path.join(ROOT, '.longhaul')),
  /**
   * The only folder of the worker's disk a pipeline input may be read from (youtube-enrich's `--csv`); a
   * relative input path is taken inside it. Default: `<LONGHAUL_DATA_DIR>/input`. docs/security.md
   */
  LONGHAUL_INPUT_DIR: z.string().min(1).optional(),
  LONGHAUL_LOG_FORMAT: z.enum(['pretty', 'json']).optional(),
  LONGHAUL_LOG_LEVEL: z.enum(['trace', 'debug', 'info', 'warn', 'error']).default('info'),

  TEMPORAL_ADDRESS: z.string().default('127.0.0.1:7233'),
  TEMPORAL_NAMESPACE: z.string().default('default'),
  TEMPORAL_UI_URL: z.url().default('http://127.0.0.1:8233'),
  /** The task queue this worker polls (pipelines start on `longhaul`; tests and staging may use another). */
  LONGHAUL_TASK_QUEUE: z.string().min(1).default('longhaul'),
  /**
   * Worker Versioning (docs/operations.md "Upgrading longhaul with runs in flight"): the Worker Deployment this
   * worker belongs to. Unset: an unversioned worker, as before. Its build ID is LONGHAUL_BUILD_ID, else the
   * package version and a hash of the workflow bundle's code.
   */
  LONGHAUL_DEPLOYMENT: z
    .string()
    .refine((v) => !v || DEPLOYMENT_NAME.test(v), DEPLOYMENT_NAME_RULE)
    .optional()
    .transform((v) => v || undefined),
  LONGHAUL_BUILD_ID: z
    .string()
    .regex(/^[A-Za-z0-9_.+-]{0,200}$/, 'letters, digits, _ . + and - only')
    .optional()
    .transform((v) => v || undefined),

  WAREHOUSE: z.enum(['duckdb', 'bigquery']).default('duckdb'),
  DUCKDB_PATH: z.string().optional(),
  /**
   * DuckDB's bounds in the worker (docs/operations.md): its buffer memory (beyond it, large loads spill to the
   * temp folder), threads, and that folder (default `<DUCKDB_PATH>.tmp`).
   */
  DUCKDB_MEMORY_LIMIT: z
    .string()
    .regex(/^\d+(\.\d+)?\s*(KB|MB|GB|TB|KiB|MiB|GiB|TiB)$/i, 'a size such as 256MB or 2GiB')
    .default('256MB'),
  DUCKDB_THREADS: z.coerce.number().int().min(1).max(256).default(2),
  DUCKDB_TEMP_DIR: z.string().min(1).optional(),
  BIGQUERY_PROJECT: z.string().optional(),
  BIGQUERY_DATASET: z.string().default('longhaul'),
  BIGQUERY_LOCATION: z.string().optional(),
  BIGQUERY_API_ENDPOINT: optionalUrl,

  BUCKET: z.enum(['local', 's3']).default('local'),
  /**
   * Raw landing retention (docs/operations.md): landings kept per window and report configuration, the one
   * just loaded included; older and incomplete ones are deleted after a load. Age limits: the bucket's own
   * lifecycle rules on `landed/`.
   */
  LANDED_KEEP: z.coerce.number().int().min(1).max(1000).default(2),
  BUCKET_DIR: z.string().optional(),
  S3_BUCKET: z.string().optional(),
  S3_ENDPOINT: optionalUrl,
  S3_REGION: z.string().default('us-east-1'),
  S3_FORCE_PATH_STYLE: z
    .enum(['true', 'false'])
    .default('false')
    .transform((v) => v === 'true'),
  S3_ACCESS_KEY_ID: z.string().optional(),
  S3_SECRET_ACCESS_KEY: z.string().optional(),

  // Dailymotion partner API (defaults: the local sandbox started by `longhaul dev`)
  DM_BASE_URL: z.url().default('http://127.0.0.1:4101'),
  DM_AUTH_URL: optionalUrl,
  DM_GRAPH_URL: optionalUrl,
  DM_CLIENT_API: z.string().optional(),
  DM_CLIENT_SECRET: z.string().optional(),
  DM_USERNAME: z.string().optional(),
  DM_PASSWORD: z.string().optional(),
  DM_SCOPE: z.string().default('create_reports read_reports access_ads access_revenue delete_reports'),
  /** Partner account the concurrency semaphore is keyed on (defaults to a fingerprint of the client id). */
  DM_ACCOUNT: z.string().optional(),
  /**
   * How long an ask whose answer was lost (worker killed or connection cut during the call) holds its report
   * slot before asking again: the report it may have started must finish generating first, so the account
   * never has more than 2 generating. The API documents generation "up to 2 h"; most finish far sooner.
   */
  DM_UNKNOWN_ASK_HOLD_MS: z.coerce
    .number()
    .int()
    .min(1000)
    .max(3 * 3_600_000)
    .default(30 * 60_000),

  // Titelive / ePagine catalog (defaults: the local sandbox started by `longhaul dev`)
  TITELIVE_LOGIN_URL: z.url().default('http://127.0.0.1:4104/v1'),
  TITELIVE_SEARCH_URL: z.url().default('http://127.0.0.1:4104/v1'),
  /** Where image URLs of the real host (https://images.epagine.fr) are fetched from; unset = as listed. */
  TITELIVE_IMAGES_URL: optionalUrl,
  TITELIVE_USERNAME: z.string().optional(),
  TITELIVE_PASSWORD: z.string().optional(),
  /** Keep-alive connections to the image host (per worker process) and images downloaded at once. */
  TITELIVE_IMAGE_POOL_SIZE: z.coerce.number().int().min(1).max(256).default(16),
  TITELIVE_IMAGE_CONCURRENCY: z.coerce.number().int().min(1).max(1024).default(32),
  /** Image retries on 5xx/429/408/network errors: how many, the first wait (doubling), the longest wait. */
  TITELIVE_IMAGE_RETRIES: z.coerce.number().int().min(0).max(30).default(10),
  TITELIVE_IMAGE_RETRY_BACKOFF_MS: z.coerce.number().int().min(0).max(600_000).default(1000),
  TITELIVE_IMAGE_RETRY_MAX_MS: z.coerce.number().int().min(0).max(3_600_000).default(120_000),
  /**
   * Search requests per second shared by every worker and run of the account on the task queue (a token bucket in
   * Temporal), and
   * how many may go at once. The API was measured at ~70/s in bursts, ~30/s sustained, 429 beyond; 0 = no limit.
   */
  TITELIVE_RATE_PER_SECOND: z.coerce.number().min(0).max(1000).default(25),
  TITELIVE_RATE_BURST: z.coerce.number().int().min(1).max(1000).default(25),
  /** The API's cap on results per query (a query whose nbreponses reaches it is split). */
  TITELIVE_MAX_RESULTS: z.coerce.number().int().min(1).default(20_000),

  // Datorama platform API (default: the local sandbox started by `longhaul dev`); docs/datorama.md
  DATORAMA_BASE_URL: z.url().default('http://127.0.0.1:4103/v1'),
  DATORAMA_TOKEN: z.string().optional(),
  /** Platform calls per minute and per UTC day allowed for the token (the API's limits: 60 and 20,000). */
  DATORAMA_PER_MINUTE: z.coerce.number().int().min(1).max(6000).default(60),
  DATORAMA_PER_DAY: z.coerce.number().int().min(1).default(20_000),
  /** Added to the 60 s / limit spacing between calls, against clock skew (ms). */
  DATORAMA_SPACING_MARGIN_MS: z.coerce.number().int().min(0).max(60_000).default(50),
  /** A run asks the limiter again for a permit not granted after this long (ms): a limiter that ended is restarted. */
  DATORAMA_REASK_MS: z.coerce.number().int().min(1_000).max(3_600_000).default(300_000),
  /** A Datorama run continues as new after this many platform calls (checked between blocks of actions). */
  DATORAMA_CALLS_PER_RUN: z.coerce.number().int().min(1).default(1000),

  YOUTUBE_BASE_URL: z.url().default('http://127.0.0.1:4102/youtube/v3'),
  /** `project:key` pairs, comma separated (keys of one Google Cloud project share its quota). */
  YOUTUBE_API_KEYS: csv,
  /**
   * Results search.list serves per query across its pages (about 500): a watcher walk that runs out near it
   * narrows its time window and walks again instead of taking it for the end of the results.
   */
  YOUTUBE_SEARCH_RESULT_CAP: z.coerce.number().int().min(50).max(100_000).default(500),
  /**
   * Unset (production): YouTube quotas reset at midnight America/Los_Angeles, as Google's do. A duration
   * (e.g. `20s`) shortens the quota day to that length, counted from the epoch — only for a sandbox started
   * with the same `quotaDayMs` (tests, demos of a quota wait), never against the real API.
   */
  YOUTUBE_QUOTA_DAY: z
    .string()
    .optional()
    .transform((v, ctx) => {
      if (!v) return undefined;
      const ms = /^\d+(ms|s|m|h)$/.test(v) ? parseDuration(v) : NaN;
      if (!(ms >= 1000 && ms <= 86_400_000)) {
        ctx.addIssue({ code: 'custom', message: `"${v}" is not a duration from 1s to 24h (e.g. 20s, 5m)` });
        return z.NEVER;
      }
      return ms;
    }),

  // Videos store of youtube-watch and `longhaul api` (docs/videos-api.md)
  VIDEOS_STORE: z.enum(['sqlite', 'postgres']).default('sqlite'),
  VIDEOS_SQLITE_PATH: z.string().optional(),
  /** `postgres://…` (VIDEOS_STORE=postgres) */
  VIDEOS_DATABASE_URL: z.string().optional(),
});

export type Config = z.infer<typeof envSchema> & {
  /**
   * The environment the configuration was read from. An API folder that declares variables of its own reads
   * them here through its own schema (e.g. the kit's async-report sources: src/kit/async-report/activities.ts).
   */
  readonly env: Readonly<Record<string, string | undefined>>;
};

export class ConfigError extends Error {
  override name = 'ConfigError';
}

/** Parses an environment; throws a ConfigError naming every bad variable. */
export function parseConfig(env: NodeJS.ProcessEnv): Config {
  const res = envSchema.safeParse(env);
  if (!res.success) {
    const lines = res.error.issues.map((i) => `  ${i.path.join('.')}: ${i.message}`);
    throw new ConfigError(`Invalid environment configuration:\n${lines.join('\n')}`);
  }
  return { ...res.data, env: Object.freeze({ ...env }) };
}

let cached: Config | undefined;

/** Loads `.env` (if present, without overriding real variables) and validates the environment once. */
export function loadConfig(): Config {
  if (!cached) {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    require('dotenv').config({ path: path.join(ROOT, '.env'), quiet: true });
    cached = parseConfig(process.env);
  }
  return cached;
}

/** For tests: forget the cached configuration. */
export function resetConfig(): void {
  cached = undefined;
}

export const paths = {
  root: ROOT,
  duckdb: (c: Config) => c.DUCKDB_PATH ?? path.join(c.LONGHAUL_DATA_DIR, 'warehouse.duckdb'),
  bucket: (c: Config) => c.BUCKET_DIR ?? path.join(c.LONGHAUL_DATA_DIR, 'bucket'),
  input: (c: Config) => c.LONGHAUL_INPUT_DIR ?? path.join(c.LONGHAUL_DATA_DIR, 'input'),
  temporalDb: (c: Config) => path.join(c.LONGHAUL_DATA_DIR, 'temporal.db'),
  videosSqlite: (c: Config) => c.VIDEOS_SQLITE_PATH ?? path.join(c.LONGHAUL_DATA_DIR, 'videos.sqlite'),
};

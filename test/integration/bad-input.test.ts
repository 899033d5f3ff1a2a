/**
 * The bad-input catalogue (issue #8): bad inputs across the `longhaul` command and every pipeline, each run
 * as a real `longhaul` child process against the suite's dev server, with in-process workers on their own
 * task queues (LONGHAUL_TASK_QUEUE) against the API sandboxes. Every case must:
 *   - exit non-zero, with a message that names the problem (the field, flag, variable or file) and no stack trace;
 *   - leave no data: the workers' warehouse tables and bucket objects are exactly as before, and a refusal by
 *     the client starts nothing (no workflow under the case's --id);
 *   - when it reaches a workflow, fail it at once: a non-retryable failure, no activity past its first attempt.
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { Worker } from '@temporalio/worker';
import type { Deps } from '../../src/activities/deps';
import { startApiServer, type ApiServer } from '../../src/api/server';
import { datoramaWorkerOptions } from '../../src/datorama-worker';
import { freePort } from '../../src/dev/servers';
import { SqliteVideosStore } from '../../src/sinks/videos-sqlite';
import type { VideoUpsert } from '../../src/sinks/videos-store';
import { startSandboxes, type RunningSandboxes } from '../../src/sandbox';
import { longhaul, pool, runVerdict, sinkSnapshot, STACK_TRACE, type ClientRun } from '../helpers/bad-input';
import { createTestWorker, devServerEnv, testDeps, tmpDir, uniqueQueue } from '../helpers/temporal';

/** Workers a case's run may reach: with the sandboxes' credentials, or with none. */
type Group = 'sandbox' | 'nocreds';

interface Case {
  name: string;
  /** `longhaul` arguments; `{input}` is replaced by the path of a file holding `input`. */
  args: string[];
  /** The content of the --input file (a string is written as is). */
  input?: unknown;
  /** What the message must say (it names the problem). */
  message: RegExp;
  /** Expected exit code: 2 for input refused by the client (README), 1 for a run that failed. */
  exit: number;
  /** The run reaches a workflow on this group's worker (started with --wait --json). */
  reaches?: Group;
  /**
   * The run completes but reports what it could not do (Datorama actions the API refused): the command still
   * exits 1, listing them.
   */
  completes?: boolean;
  /** Extra environment for the client process. */
  env?: Record<string, string>;
  /** What must appear nowhere: not in the output, not in the run's failure messages (file content, secrets). */
  absent?: RegExp;
}

/** Planted in files the YouTube cases point at: no message may quote it. */
const PLANTED = `plantedSecret${process.pid}Xk`;

const DM = ['--metrics', 'VIEWS', '--dimensions', 'DAY,VIDEO_ID'];
const DM_DATES = ['--start-date', '2026-01-01', '--end-date', '2026-01-10'];
/** A titelive run of books modified since 2025-01-01. */
const TL_LIVRE = ['run', 'titelive', '--category', 'LIVRE', '--min-modified-date', '2025-01-01'];

/** A youtube-watch run for 'cricket' with `flags` that the client refuses (exit 2). */
const watchRefused = (name: string, flags: string[], message: RegExp): Case => ({
  name,
  args: ['run', 'youtube-watch', '--query', 'cricket', ...flags],
  message,
  exit: 2,
});

const CASES: Case[] = [
  // ── the command itself ────────────────────────────────────────────────────────────────────────────
  { name: 'unknown command', args: ['frobnicate'], message: /unknown command 'frobnicate'/, exit: 1 },
  { name: 'unknown pipeline', args: ['run', 'nosuch'], message: /Unknown pipeline "nosuch"/, exit: 2 },
  {
    name: 'unknown flag',
    args: ['run', 'selftest', '--bogus-flag', '1'],
    message: /unknown option --bogus-flag/,
    exit: 2,
  },
  {
    name: 'mistyped flag of a pipeline',
    args: ['run', 'dailymotion-report', ...DM, '--start-dat', '2026-01-01', '--end-date', '2026-01-10'],
    message: /unknown option --start-dat\b/,
    exit: 2,
  },
  // ── longhaul export ──────────────────────────────────────────────────────────────────────────────
  {
    name: 'export: a table the warehouse does not hold',
    args: ['export', 'no_such_table', '--format', 'ndjson', '--to', 'exports/x.ndjson'],
    message: /No table "no_such_table" in the warehouse/,
    exit: 2,
  },
  {
    name: 'export: an unknown format',
    args: ['export', 'dailymotion_report', '--format', 'xlsx'],
    message: /--format xlsx: one of ndjson, json, csv, parquet/,
    exit: 2,
  },
  {
    name: 'export: a --to that is not a bucket key',
    args: ['export', 'dailymotion_report', '--format', 'csv', '--to', '../outside.csv'],
    message: /--to \.\.\/outside\.csv: not a bucket key/,
    exit: 2,
  },
  // ── longhaul simulate: the same validation as run, and its own --api / --at ─────────────────────────
  {
    name: 'simulate: a pipeline flag out of range, as run says it',
    args: [
      'simulate',
      'dailymotion-report',
      ...DM,
      '--start-date',
      '2026-01-01',
      '--end-date',
      '2026-01-10',
      '--window-days',
      '500',
    ],
    message: /--window-days.*180/,
    exit: 2,
  },
  {
    name: 'simulate: an --api key the sandbox does not have, naming those it accepts',
    args: ['simulate', 'youtube-enrich', '--ids', 'dQw4w9WgXcQ', '--api', 'unitsPerDai=5'],
    message: /--api unitsPerDai: not a key of the youtube sandbox \(it accepts: projects, keysPerProject, unitsPerDay,/,
    exit: 2,
  },
  {
    name: 'simulate: an --api value that does not parse',
    args: ['simulate', 'dailymotion-report', ...DM, ...DM_DATES, '--api', 'generationTime=soon'],
    message: /--api generationTime=soon: expected a duration/,
    exit: 2,
  },
  {
    name: 'simulate: --at in the past',
    args: [
      'simulate',
      'datorama-process',
      '--streams',
      '10001',
      '--start',
      '2025-01-01',
      '--end',
      '2025-01-02',
      '--at',
      '2020-01-01T00:00:00Z',
    ],
    message: /--at 2020-01-01T00:00:00.000Z is in the past/,
    exit: 2,
  },
  {
    name: 'simulate: a pipeline without a simulation',
    args: ['simulate', 'selftest'],
    message: /selftest cannot be simulated yet \(can: /,
    exit: 2,
  },
  {
    name: 'stray positional argument',
    args: ['run', 'selftest', 'extra'],
    message: /Unexpected argument "extra"/,
    exit: 2,
  },
  {
    name: '--input file missing',
    args: ['run', 'selftest', '--input', '/nonexistent/longhaul-input.json'],
    message: /Cannot read --input \/nonexistent\/longhaul-input.json/,
    exit: 2,
  },
  {
    name: '--input not JSON',
    args: ['run', 'selftest', '--input', '{input}'],
    input: '{ "sleep": ',
    message: /--input .* is not valid JSON/,
    exit: 2,
  },
  {
    name: '--input a JSON array',
    args: ['run', 'selftest', '--input', '{input}'],
    input: [1, 2],
    message: /--input .* must hold a JSON object/,
    exit: 2,
  },
  {
    name: '--input null',
    args: ['run', 'selftest', '--input', '{input}'],
    input: null,
    message: /--input .* must hold a JSON object/,
    exit: 2,
  },
  {
    name: '--input with an unknown key',
    args: ['run', 'selftest', '--input', '{input}'],
    input: { sleeep: '1s' },
    message: /unknown option --sleeep/,
    exit: 2,
  },
  {
    name: 'Temporal unreachable (closed port)',
    args: ['run', 'selftest'],
    env: { TEMPORAL_ADDRESS: '127.0.0.1:{closedPort}' },
    message: /Cannot reach Temporal at 127\.0\.0\.1:\d+/,
    exit: 1,
  },
  {
    name: 'bad log level in the environment',
    args: ['run', 'selftest'],
    env: { LONGHAUL_LOG_LEVEL: 'loud' },
    message: /LONGHAUL_LOG_LEVEL/,
    exit: 2,
  },
  {
    name: 'bad URL in the environment',
    args: ['run', 'selftest'],
    env: { TEMPORAL_UI_URL: 'not a url' },
    message: /TEMPORAL_UI_URL: Invalid URL/,
    exit: 2,
  },
  {
    name: 'API endpoint not a URL in the environment',
    args: ['run', 'dailymotion-report', ...DM, ...DM_DATES],
    env: { DM_BASE_URL: 'http//dailymotion.example' },
    message: /DM_BASE_URL: Invalid URL/,
    exit: 2,
  },
  {
    name: 'schedule with a 4-field cron',
    args: ['schedule', 'create', 'selftest', '--cron', '0 6 * *', '--id', '{id}'],
    message: /must have 5 fields/,
    exit: 2,
  },
  // ── selftest ──────────────────────────────────────────────────────────────────────────────────────
  {
    name: 'selftest: bad duration',
    args: ['run', 'selftest', '--sleep', 'whenever'],
    message: /sleep: Invalid duration "whenever"/,
    exit: 2,
  },
  { name: 'selftest: empty label', args: ['run', 'selftest', '--label='], message: /label: at least/, exit: 2 },
  {
    name: 'selftest: oversize label',
    args: ['run', 'selftest', '--label', 'x'.repeat(5000)],
    message: /label: at most/,
    exit: 2,
  },
  // ── dailymotion-report ────────────────────────────────────────────────────────────────────────────
  {
    name: 'dailymotion: impossible date',
    args: ['run', 'dailymotion-report', ...DM, '--start-date', '2026-02-30', '--end-date', '2026-03-05'],
    message: /--start-date: not a real calendar date/,
    exit: 2,
  },
  {
    name: 'dailymotion: date in another format',
    args: ['run', 'dailymotion-report', ...DM, '--start-date', '01/02/2026', '--end-date', '2026-03-05'],
    message: /--start-date/,
    exit: 2,
  },
  {
    name: 'dailymotion: reversed range',
    args: ['run', 'dailymotion-report', ...DM, '--start-date', '2026-03-10', '--end-date', '2026-03-01'],
    message: /--end-date: 2026-03-01 is before startDate 2026-03-10/,
    exit: 2,
  },
  {
    name: 'dailymotion: end date in the future',
    args: ['run', 'dailymotion-report', ...DM, '--start-date', '2026-01-01', '--end-date', '2099-01-01'],
    message: /--end-date: 2099-01-01 is in the future/,
    exit: 2,
  },
  {
    name: 'dailymotion: window too long',
    args: ['run', 'dailymotion-report', ...DM, ...DM_DATES, '--window-days', '181'],
    message: /--window-days: at most 180/,
    exit: 2,
  },
  {
    name: 'dailymotion: zero-day window',
    args: ['run', 'dailymotion-report', ...DM, ...DM_DATES, '--window-days', '0'],
    message: /--window-days: at least/,
    exit: 2,
  },
  {
    name: 'dailymotion: too many dimensions',
    args: [
      'run',
      'dailymotion-report',
      '--metrics',
      'VIEWS',
      '--dimensions',
      'DAY,VIDEO_ID,VIDEO_TITLE,VISITOR_COUNTRY,VISITOR_DEVICE_TYPE,PLAYER_ID,PLAYLIST_ID,MEDIA_TYPE,VISITOR_DOMAIN_GROUP',
      ...DM_DATES,
    ],
    message: /dimensions: at most 8 dimensions/,
    exit: 2,
  },
  {
    name: 'dailymotion: unknown metric',
    args: ['run', 'dailymotion-report', '--metrics', 'VIEWZ', '--dimensions', 'DAY', ...DM_DATES],
    message: /--metrics \(item 1\): not a valid value/,
    exit: 2,
  },
  {
    name: 'dailymotion: unknown product',
    args: ['run', 'dailymotion-report', ...DM, ...DM_DATES, '--product', 'TELEVISION'],
    message: /product: not a valid value/,
    exit: 2,
  },
  {
    name: 'dailymotion: duplicate dimension',
    args: ['run', 'dailymotion-report', '--metrics', 'VIEWS', '--dimensions', 'DAY,DAY', ...DM_DATES],
    message: /dimensions: duplicate dimension/,
    exit: 2,
  },
  {
    name: 'dailymotion: SQL in the table name',
    args: ['run', 'dailymotion-report', ...DM, ...DM_DATES, '--table', 'x; DROP TABLE datorama_job_log; --'],
    message: /table: letters, digits and underscores/,
    exit: 2,
  },
  {
    name: 'dailymotion: unknown key in poll settings',
    args: ['run', 'dailymotion-report', ...DM, ...DM_DATES, '--input', '{input}'],
    input: { poll: { every: '1s' } },
    message: /--poll: unknown field\(s\) "every"/,
    exit: 2,
  },
  {
    name: 'dailymotion: worker without credentials',
    args: ['run', 'dailymotion-report', ...DM, ...DM_DATES],
    reaches: 'nocreds',
    message: /DM_CLIENT_API is not set/,
    exit: 1,
  },
  // ── youtube-enrich ────────────────────────────────────────────────────────────────────────────────
  {
    name: 'youtube: neither csv nor ids',
    args: ['run', 'youtube-enrich'],
    message: /csv: give either csv or ids/,
    exit: 2,
  },
  {
    name: 'youtube: both csv and ids',
    args: ['run', 'youtube-enrich', '--csv', 'x.csv', '--ids', 'a,b'],
    message: /csv: give either csv or ids/,
    exit: 2,
  },
  { name: 'youtube: empty ID list', args: ['run', 'youtube-enrich', '--ids', ','], message: /ids: at least/, exit: 2 },
  {
    name: 'youtube: huge ID list (50,001)',
    args: ['run', 'youtube-enrich', '--input', '{input}'],
    input: { ids: Array.from({ length: 50_001 }, (_, i) => `id${String(i).padStart(9, '0')}`) },
    message: /ids: at most 50000 items/,
    exit: 2,
  },
  {
    name: 'youtube: unknown part',
    args: ['run', 'youtube-enrich', '--ids', 'a', '--parts', 'snippet,gossip'],
    message: /--parts \(item 2\): not a valid value/,
    exit: 2,
  },
  {
    name: 'youtube: negative limit',
    args: ['run', 'youtube-enrich', '--ids', 'a', '--limit', '-3'],
    message: /--limit: more than 0/,
    exit: 2,
  },
  {
    name: 'youtube: zero concurrency',
    args: ['run', 'youtube-enrich', '--ids', 'a', '--concurrency', '0'],
    message: /concurrency: at least/,
    exit: 2,
  },
  {
    name: 'youtube: path traversal in the output prefix',
    args: ['run', 'youtube-enrich', '--ids', 'a', '--out-prefix', 'youtube/../../etc'],
    message: /--out-prefix: no "\.\.", "\/\/" or trailing "\/"/,
    exit: 2,
  },
  {
    name: 'youtube: CSV file missing',
    args: ['run', 'youtube-enrich', '--csv', '{dir}/missing.csv'],
    reaches: 'sandbox',
    message: /missing\.csv/,
    exit: 1,
  },
  {
    name: 'youtube: CSV without the column',
    args: ['run', 'youtube-enrich', '--csv', '{dir}/no-column.csv', '--column', 'song'],
    reaches: 'sandbox',
    message: /song/,
    exit: 1,
  },
  {
    name: 'youtube: malformed CSV (unclosed quote)',
    args: ['run', 'youtube-enrich', '--csv', '{dir}/unclosed.csv'],
    reaches: 'sandbox',
    message: /--csv: malformed CSV at line \d+ \(CSV_QUOTE_NOT_CLOSED\)/,
    exit: 1,
    absent: new RegExp(PLANTED),
  },
  {
    name: 'youtube: CSV header holding a secret, column missing',
    args: ['run', 'youtube-enrich', '--csv', '{dir}/header-secret.csv', '--column', 'song'],
    reaches: 'sandbox',
    message: /--column: \\?"song\\?" is not a column of the CSV header \(which has 3 column\(s\)/,
    exit: 1,
    absent: new RegExp(PLANTED),
  },
  {
    name: 'youtube: CSV path /proc/self/environ',
    args: ['run', 'youtube-enrich', '--csv', '/proc/self/environ', '--column', 'x'],
    reaches: 'sandbox',
    message: /--csv: \/proc\/self\/environ is outside the worker's input folder \(LONGHAUL_INPUT_DIR\)/,
    exit: 1,
    absent: /PATH=|HOME=|YOUTUBE_API_KEYS|AIza/,
  },
  {
    name: 'youtube: CSV path with ../ out of the input folder',
    args: ['run', 'youtube-enrich', '--csv', '../{outside}/secret.csv', '--column', 'x'],
    reaches: 'sandbox',
    message: /--csv: \.\.\/.*secret\.csv is outside the worker's input folder/,
    exit: 1,
    absent: new RegExp(PLANTED),
  },
  {
    name: 'youtube: CSV symlink pointing out of the input folder',
    args: ['run', 'youtube-enrich', '--csv', 'link-out.csv', '--column', 'x'],
    reaches: 'sandbox',
    message: /--csv: link-out\.csv is outside the worker's input folder/,
    exit: 1,
    absent: new RegExp(PLANTED),
  },
  {
    name: 'youtube: worker without API keys',
    args: ['run', 'youtube-enrich', '--ids', 'dQw4w9WgXcQ', '--out-prefix', 'youtube/nokeys'],
    reaches: 'nocreds',
    message: /YOUTUBE_API_KEYS/,
    exit: 1,
  },
  // ── youtube-watch ─────────────────────────────────────────────────────────────────────────────────
  { name: 'youtube-watch: empty query', args: ['run', 'youtube-watch', '--query', ' '], message: /query/, exit: 2 },
  watchRefused('youtube-watch: zero interval', ['--interval-seconds', '0'], /--interval-seconds/),
  watchRefused('youtube-watch: page size beyond the API limit', ['--page-size', '51'], /--page-size: at most/),
  watchRefused('youtube-watch: negative page size', ['--page-size', '-1'], /--page-size: at least/),
  watchRefused('youtube-watch: backfill date not a date', ['--backfill-from', 'last tuesday'], /--backfill-from/),
  watchRefused(
    'youtube-watch: unknown quota model',
    ['--quota-model', 'unlimited'],
    /--quota-model: not a valid value/,
  ),
  // ── titelive ──────────────────────────────────────────────────────────────────────────────────────
  {
    name: 'titelive: unknown category',
    args: ['run', 'titelive', '--category', 'BD', '--min-modified-date', '2025-01-01'],
    message: /category: not a valid value; one of LIVRE, MUSIQUE_ENREGISTREE/,
    exit: 2,
  },
  {
    name: 'titelive: an image prefix that climbs out of its place',
    args: [...TL_LIVRE, '--image-prefix', 'covers/../x'],
    message: /--image-prefix: no "\." or "\.\." part/,
    exit: 2,
  },
  {
    name: 'titelive: no start date',
    args: ['run', 'titelive', '--category', 'LIVRE'],
    message: /--min-modified-date: give minModifiedDate, or incremental: true/,
    exit: 2,
  },
  {
    name: 'titelive: reversed range',
    args: [
      'run',
      'titelive',
      '--category',
      'LIVRE',
      '--min-modified-date',
      '2025-06-01',
      '--max-modified-date',
      '2025-01-01',
    ],
    message: /--min-modified-date: must not be after maxModifiedDate/,
    exit: 2,
  },
  {
    name: 'titelive: negative page size',
    args: [...TL_LIVRE, '--results-per-page', '-5'],
    message: /--results-per-page: at least/,
    exit: 2,
  },
  {
    name: 'titelive: page size beyond the API limit',
    args: [...TL_LIVRE, '--results-per-page', '5000'],
    message: /--results-per-page: at most/,
    exit: 2,
  },
  {
    name: 'titelive: parse only and incremental together',
    args: ['run', 'titelive', '--category', 'LIVRE', '--parse-from', 'raw.parquet', '--incremental'],
    message: /--incremental: not with parseFrom/,
    exit: 2,
  },
  {
    name: 'titelive: an output key with an unknown placeholder',
    args: [...TL_LIVRE, '--raw-output', 'x/{date}.parquet'],
    message: /--raw-output: unknown placeholder: use \{category\}, \{runId\} or \{day\}/,
    exit: 2,
  },
  {
    name: 'titelive: an images file without the images',
    args: [...TL_LIVRE, '--images', 'false', '--images-output', 'images.parquet'],
    message: /--images-output: needs images: true/,
    exit: 2,
  },
  {
    name: 'titelive: parse-from /proc/self/environ',
    args: ['run', 'titelive', '--category', 'LIVRE', '--parse-from', '/proc/self/environ', '--images', 'false'],
    reaches: 'sandbox',
    message: /--parse-from: \/proc\/self\/environ is outside the worker's input folder \(LONGHAUL_INPUT_DIR\)/,
    exit: 1,
    absent: /PATH=|HOME=|TITELIVE_PASSWORD/,
  },
  {
    name: 'titelive: worker without credentials',
    args: TL_LIVRE,
    reaches: 'nocreds',
    message: /TITELIVE_USERNAME and TITELIVE_PASSWORD must be set/,
    exit: 1,
  },
  // ── datorama-* ────────────────────────────────────────────────────────────────────────────────────
  {
    name: 'datorama-process: nothing to process',
    args: ['run', 'datorama-process'],
    message: /streams: give streams with start and end, or ranges/,
    exit: 2,
  },
  {
    name: 'datorama-process: reversed range',
    args: ['run', 'datorama-process', '--streams', '10001', '--start', '2025-03-01', '--end', '2025-01-01'],
    message: /start: start must not be after end/,
    exit: 2,
  },
  {
    name: 'datorama-process: stream ID not a number',
    args: ['run', 'datorama-process', '--streams', '10001,abc', '--start', '2025-01-01', '--end', '2025-01-05'],
    message: /--streams \(item 2\): expected number/,
    exit: 2,
  },
  {
    name: 'datorama-process: chunk longer than a year',
    args: [
      'run',
      'datorama-process',
      '--streams',
      '10001',
      '--start',
      '2025-01-01',
      '--end',
      '2025-01-05',
      '--d-range',
      '400',
    ],
    message: /--d-range: at most/,
    exit: 2,
  },
  {
    name: 'datorama-rerun: malformed stream:job pair',
    args: ['run', 'datorama-rerun', '--jobs', '10001-7'],
    message: /--jobs \(item 1\): expected stream:job/,
    exit: 2,
  },
  {
    name: 'datorama-rerun-all: negative stream ID',
    args: ['run', 'datorama-rerun-all', '--streams', '-4'],
    message: /--streams \(item 1\): more than 0/,
    exit: 2,
  },
  {
    name: 'datorama-rename: malformed rename',
    args: ['run', 'datorama-rename', '--renames', '10001'],
    message: /--renames \(item 1\): expected stream=new name/,
    exit: 2,
  },
  {
    name: 'datorama-rename: renames and undo together',
    args: ['run', 'datorama-rename', '--renames', '10001=A', '--undo', 'some-run'],
    message: /give renames or undo/,
    exit: 2,
  },
  {
    name: 'datorama-patch: empty fields',
    args: ['run', 'datorama-patch', '--streams', '10001', '--input', '{input}'],
    input: { fields: {} },
    message: /fields: fields is empty/,
    exit: 2,
  },
  {
    name: 'datorama-rerun-all: a job log key that climbs out of its folder',
    args: ['run', 'datorama-rerun-all', '--streams', '10001', '--job-log', 'logs/../../etc/x.csv'],
    message: /--job-log: a bucket key ending \.csv/,
    exit: 2,
  },
  {
    name: 'datorama-collect: zero page size',
    args: ['run', 'datorama-collect', '--page-size', '0'],
    message: /--page-size: at least/,
    exit: 2,
  },
  {
    name: 'datorama-collect: negative page size',
    args: ['run', 'datorama-collect', '--page-size', '-100'],
    message: /--page-size: at least/,
    exit: 2,
  },
  {
    name: 'datorama-patch: oversize inline payload (4 MB of fields)',
    args: ['run', 'datorama-patch', '--streams', '10001', '--input', '{input}'],
    input: { fields: { description: 'x'.repeat(4 << 20) } },
    message: /it is 4\.0 MB, over the 1 MB limit of a workflow input/,
    exit: 2,
  },
  {
    name: 'datorama-rerun-all: unknown stream IDs',
    args: ['run', 'datorama-rerun-all', '--streams', '99999991,99999992'],
    reaches: 'sandbox',
    message: /Data stream 99999991 not found/,
    exit: 1,
    completes: true,
  },
  {
    name: 'datorama-collect: worker without a token',
    args: ['run', 'datorama-collect'],
    reaches: 'nocreds',
    message: /DATORAMA_TOKEN is not set/,
    exit: 1,
  },
];

interface Outcome {
  c: Case;
  id: string;
  run: ClientRun;
}

const DEBUG = process.env.LONGHAUL_BAD_INPUT_DEBUG === '1';

describe('bad-input catalogue', () => {
  let env: TestWorkflowEnvironment;
  let sandboxes: RunningSandboxes;
  let closedPort: number;
  const groups = {} as Record<Group, { queue: string; deps: Deps & { dir: string }; workers: Worker[] }>;
  const dir = tmpDir('longhaul-bad-input-');
  /** A folder next to the input folder (`dir`, the workers' LONGHAUL_INPUT_DIR): nothing in it may be read. */
  const outside = tmpDir('longhaul-bad-outside-');
  const outcomes = new Map<string, Outcome>();
  const before = {} as Record<Group, Awaited<ReturnType<typeof sinkSnapshot>>>;
  let stopWorkers: () => Promise<void> = async () => {};

  beforeAll(async () => {
    env = await devServerEnv();
    sandboxes = await startSandboxes(undefined, { randomPorts: true, seed: 8 });
    closedPort = await freePort(); // a port nothing listens on (bound, then released)
    const creds =
      /^(DM_CLIENT_API|DM_CLIENT_SECRET|DM_USERNAME|DM_PASSWORD|TITELIVE_USERNAME|TITELIVE_PASSWORD|DATORAMA_TOKEN|YOUTUBE_API_KEYS)$/;
    const configs: Record<Group, Record<string, string>> = {
      sandbox: { ...sandboxes.env, LONGHAUL_INPUT_DIR: dir },
      nocreds: {
        ...Object.fromEntries(Object.entries(sandboxes.env).filter(([k]) => !creds.test(k))),
        LONGHAUL_INPUT_DIR: dir,
      },
    };
    fs.writeFileSync(path.join(dir, 'no-column.csv'), 'video,user\nabc,u1\n');
    fs.writeFileSync(path.join(dir, 'unclosed.csv'), `song,user\n"${PLANTED},u1\ndef,u2\n`);
    fs.writeFileSync(path.join(dir, 'header-secret.csv'), `user,${PLANTED},other\nu1,dQw4w9WgXcQ,x\n`);
    fs.writeFileSync(path.join(outside, 'secret.csv'), `${PLANTED},x\n${PLANTED},y\n`);
    fs.symlinkSync(path.join(outside, 'secret.csv'), path.join(dir, 'link-out.csv'));
    const running: Promise<void>[] = [];
    for (const g of Object.keys(configs) as Group[]) {
      const queue = uniqueQueue(`bad-${g}`);
      const deps = testDeps({ ...configs[g], LONGHAUL_TASK_QUEUE: queue, DM_ACCOUNT: queue });
      const main = await createTestWorker(env, deps, queue);
      const callOpts = datoramaWorkerOptions(deps, queue);
      const calls = await createTestWorker(env, deps, callOpts.taskQueue, callOpts);
      groups[g] = { queue, deps, workers: [main, calls] };
      before[g] = await sinkSnapshot(deps);
      running.push(main.run(), calls.run());
    }
    stopWorkers = async () => {
      for (const g of Object.values(groups)) for (const w of g.workers) w.shutdown();
      await Promise.all(running);
    };

    // Every case, at most 3 client processes at a time.
    const t0 = Date.now();
    const results = await pool(
      3,
      CASES.map((c) => async () => {
        const id = uniqueQueue('bad');
        const inputFile = c.input === undefined ? '' : writeInput(dir, id, c.input);
        const fill = (s: string) =>
          s
            .replace('{id}', id)
            .replace('{dir}', dir)
            .replace('{outside}', path.basename(outside))
            .replace('{closedPort}', String(closedPort))
            .replace('{input}', inputFile);
        const group = groups[c.reaches ?? 'sandbox'];
        const args = c.args.map(fill);
        if (args[0] === 'run') args.push('--id', id, ...(c.reaches ? ['--wait', '--json'] : []));
        const childEnv = {
          TEMPORAL_ADDRESS: env.address,
          LONGHAUL_TASK_QUEUE: group.queue,
          LONGHAUL_DATA_DIR: tmpDir('longhaul-bad-client-'),
          ...Object.fromEntries(Object.entries(c.env ?? {}).map(([k, v]) => [k, fill(v)])),
        };
        const run = await longhaul(args, childEnv);
        if (DEBUG) console.log(`[${c.name}] exit ${run.code} in ${run.ms} ms\n${run.stdout}${run.stderr}`);
        return { c, id, run };
      }),
    );
    for (const o of results) outcomes.set(o.c.name, o);
    console.log(`[bad-input] ${CASES.length} client processes in ${Date.now() - t0} ms`);
  }, 420_000); // 74 client processes, 3 at a time: about 290 s on a loaded 2-core machine

  afterAll(async () => {
    // Entity workflows the runs may have started (semaphores, ledgers, limiters) end with the test.
    for (const g of Object.values(groups ?? {})) {
      for await (const w of env.client.workflow.list({
        query: `TaskQueue = '${g.queue}' AND ExecutionStatus = 'Running'`,
      }))
        await env.client.workflow
          .getHandle(w.workflowId)
          .terminate('test over')
          .catch(() => undefined);
    }
    await stopWorkers();
    await sandboxes?.stop();
    await env?.teardown();
  });

  it('has at least 40 cases', () => {
    expect(CASES.length).toBeGreaterThanOrEqual(40);
    expect(new Set(CASES.map((c) => c.name)).size).toBe(CASES.length);
  });

  it.each(CASES.map((c) => [c.name, c] as const))('%s', async (_name, c) => {
    const { id, run } = outcomes.get(c.name)!;
    const output = `${run.stdout}\n${run.stderr}`;
    expect(output).toMatch(c.message);
    expect(output).not.toMatch(STACK_TRACE);
    if (c.absent) expect(output).not.toMatch(c.absent);
    expect(run.code, output).toBe(c.exit);

    const handle = env.client.workflow.getHandle(id);
    if (!c.reaches) {
      // Refused before anything started.
      await expect(handle.describe()).rejects.toThrow(/not found/i);
    } else {
      const outcome = JSON.parse(run.stdout) as { status: string; error?: string; problems?: string[] };
      const v = await runVerdict(env.client, id);
      if (c.absent) expect(v.messages.join('\n')).not.toMatch(c.absent);
      if (c.completes) {
        expect(outcome.status).toBe('completed');
        expect(outcome.problems?.length).toBeGreaterThan(0);
        expect(v.status).toBe('COMPLETED');
      } else {
        expect(outcome.status).toBe('failed');
        expect(v.status).toBe('FAILED');
        expect(v.nonRetryable, v.messages.join(' ← ')).toBe(true);
      }
      // Bad input is never retried: no activity of the run (or of its children) went past its first attempt.
      expect(v.maxActivityAttempt).toBeLessThanOrEqual(1);
    }
  });

  it('left no data behind: every worker’s warehouse tables and bucket objects are as before', async () => {
    // The Datorama action record and job log are the record of every run's actions, refused ones included
    // (docs/datorama.md): they hold the refused rerun-all, nothing else; everything else is exactly as before.
    const RECORDS = ['datorama_actions', 'datorama_job_log'];
    const data = (s: Awaited<ReturnType<typeof sinkSnapshot>>) => ({
      tables: Object.fromEntries(Object.entries(s.tables).filter(([t]) => !RECORDS.includes(t))),
      objects: s.objects.filter((o) => !o.startsWith('datorama/job-logs/')),
    });
    for (const g of Object.keys(groups) as Group[])
      expect(data(await sinkSnapshot(groups[g].deps))).toEqual(data(before[g]));
    const wh = groups.sandbox.deps.warehouse;
    expect(await wh.query('SELECT DISTINCT op, state, http_status FROM datorama_actions')).toEqual([
      { op: 'rerun-all', state: 'FAILED', http_status: 404 },
    ]);
    expect(await wh.query('SELECT DISTINCT op, status, http_status FROM datorama_job_log')).toEqual([
      { op: 'rerun-all', status: 'FAILED', http_status: 404 },
    ]);
  });
});

/** SQL in every parameter of `GET /api/videos`: a 400 naming the parameter, or an ordinary (empty) result. */
const SQL = [
  "' OR '1'='1",
  "'; DROP TABLE videos; --",
  '1; DELETE FROM videos',
  '" OR ""="',
  "x') UNION SELECT name, sql, 1, 1, 1, 1, 1, 1, 1, 1 FROM sqlite_master --",
];
const API_PARAMS = ['search', 'query', 'ordering', 'page', 'pageSize', 'cursor', 'publishedAfter', 'publishedBefore'];

describe('videos API: SQL-injection strings in the parameters of GET /api/videos', () => {
  let store: SqliteVideosStore;
  let api: ApiServer;
  const videos: VideoUpsert[] = Array.from({ length: 12 }, (_, i) => ({
    videoId: `vid${String(i).padStart(8, '0')}`,
    query: 'cricket',
    title: `Cricket highlights ${i}`,
    description: `match ${i}`,
    publishedAt: new Date(Date.UTC(2026, 0, 1 + i)).toISOString(),
    channelId: 'UCchannel',
    channelTitle: 'Channel',
    thumbnails: {},
    raw: { id: { videoId: `vid${i}` } },
    seenAt: '2026-02-01T00:00:00.000Z',
  }));
  const all = async () =>
    (await (await fetch(`${api.url}/api/videos?pageSize=100&ordering=publishedAt`)).json()) as {
      items: { videoId: string }[];
    };

  beforeAll(async () => {
    store = new SqliteVideosStore({ path: path.join(tmpDir('longhaul-bad-api-'), 'videos.sqlite') });
    await store.init();
    await store.upsert(videos);
    api = await startApiServer({ store, host: '127.0.0.1', port: 0 });
  });
  afterAll(async () => {
    await api?.close();
    await store?.close();
  });

  it.each(API_PARAMS.flatMap((p) => SQL.map((v) => [p, v] as const)))('%s=%s', async (param, value) => {
    const res = await fetch(`${api.url}/api/videos?${new URLSearchParams({ [param]: value })}`);
    const body = (await res.json()) as { error?: { parameter: string; message: string }; items?: unknown[] };
    if (res.status === 400) expect(body.error?.parameter).toBe(param);
    else {
      // Text filters take the string as text: nothing matches it.
      expect(res.status).toBe(200);
      expect(['search', 'query']).toContain(param);
      expect(body.items).toEqual([]);
    }
    expect(await store.count()).toBe(videos.length);
  });

  it('leaves the table intact', async () => {
    expect(await store.count()).toBe(videos.length);
    expect((await all()).items.map((v) => v.videoId)).toEqual(videos.map((v) => v.videoId));
  });
});

/** Writes a case's --input file; returns its path. */
function writeInput(dir: string, id: string, input: unknown): string {
  const file = path.join(dir, `${id}.json`);
  fs.writeFileSync(file, typeof input === 'string' ? input : JSON.stringify(input));
  return file;
}

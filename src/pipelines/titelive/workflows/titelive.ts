/**
 * The titelive workflow: extract → parse → images, then the high-water mark.
 * Extract walks a queue of date-range queries; a query at the API's result cap is split (halves of the
 * range, then single days by availability), a 429 is waited out on a durable timer, and each query's
 * pages are checkpointed by the extract activity. Parse and images hand each other bucket keys only.
 * Image failures are counted, retried once more after a durable wait, and never fail the run. The
 * high-water mark is written last, so only a successful run moves it, and never past the first day of a
 * query still at the cap after every split (listed in `capped`; `longhaul run --wait` then exits 1).
 */
import { ApplicationFailure, isCancellation, patched, sleep, workflowInfo } from '@temporalio/workflow';
import type { z } from 'zod';
import type { TiteliveActivities } from '../activities/titelive';
import type { ExtractOutcome } from '../activities/extract';
import type { ParseOutcome } from '../activities/parse';
import { titeliveInput, titelivePipeline, type TiteliveInput, type TiteliveResult } from '../definition';
import { formatDuration } from '../../../shared/durations';
import { describedActivities, ProgressTracker, validateInput, workflowNow } from '../../../kit/workflow';
import { isoDayOf, queryKey, splitQuery, type RangeQuery } from './ranges';

const extractor = describedActivities<TiteliveActivities>({
  startToCloseTimeout: '2 hours',
  // A page answers in about a second; the client gives up on one after 45 s. Heartbeats are throttled to
  // 80% of this, which is also how soon a cancellation reaches the activity.
  heartbeatTimeout: '1 minute',
  retry: {
    initialInterval: '5s',
    backoffCoefficient: 2,
    maximumInterval: '2 minutes',
    maximumAttempts: 12,
    nonRetryableErrorTypes: ['TiteliveAuthError', 'TiteliveError'],
  },
});
const parser = describedActivities<TiteliveActivities>({
  startToCloseTimeout: '1 hour',
  // Heartbeats on a timer (every 15 s) through every step: a killed worker's parse is retried within a minute.
  heartbeatTimeout: '1 minute',
  retry: { initialInterval: '10s', backoffCoefficient: 2, maximumAttempts: 3 },
});
const imager = describedActivities<TiteliveActivities>({
  startToCloseTimeout: '30 minutes',
  heartbeatTimeout: '2 minutes',
  retry: { initialInterval: '5s', backoffCoefficient: 2, maximumInterval: '1 minute', maximumAttempts: 5 },
});
const marker = describedActivities<TiteliveActivities>({
  startToCloseTimeout: '1 minute',
  retry: { initialInterval: '1s', backoffCoefficient: 2, maximumAttempts: 5 },
});

/** Wait after a 429 without Retry-After (the API sends none): 30 s, doubling, at most 10 min. */
const rateLimitWait = (consecutive: number, retryAfterMs?: number) =>
  retryAfterMs ?? Math.min(30_000 * 2 ** (consecutive - 1), 600_000);

export async function titelive(rawInput: TiteliveInput): Promise<TiteliveResult> {
  const input = validateInput(titeliveInput, rawInput);
  const progress = new ProgressTracker('titelive', 'pages');
  try {
    return await run(input, progress);
  } catch (err) {
    if (!isCancellation(err)) progress.set({ phase: 'failed' });
    throw err;
  }
}

/** An output key with its placeholders filled in (the definition checked they are known ones). */
export const outputKey = (template: string, vars: { category: string; runId: string; day: string }) =>
  template.replace(/\{(category|runId|day)\}/g, (_m, name: keyof typeof vars) => vars[name]);

async function run(input: z.output<typeof titeliveInput>, progress: ProgressTracker): Promise<TiteliveResult> {
  const runId = workflowInfo().runId;
  const { category } = input;
  const vars = { category, runId, day: isoDayOf(workflowNow()) };
  const keys = {
    raw: input.rawOutput && outputKey(input.rawOutput, vars),
    parsed: input.parsedOutput && outputKey(input.parsedOutput, vars),
    images: input.imagesOutput && outputKey(input.imagesOutput, vars),
  };
  if (input.parseFrom) return parseOnly(input, input.parseFrom, keys, progress);

  // The range: from the high-water mark (incremental) or the given date, to the given day or today.
  let dateMin = input.minModifiedDate;
  if (input.incremental) {
    progress.set({ phase: 'reading the high-water mark' });
    dateMin =
      (await marker(`read the high-water mark of ${category}`).titeliveReadHighWaterMark({ category })) ??
      input.minModifiedDate;
    if (!dateMin)
      throw ApplicationFailure.nonRetryable(
        `No high-water mark recorded for ${category} yet: give minModifiedDate for the first run`,
        'InvalidInput',
      );
  }
  const dateMax = input.maxModifiedDate ?? isoDayOf(workflowNow());
  if (dateMin! > dateMax)
    throw ApplicationFailure.nonRetryable(`minModifiedDate ${dateMin} is after ${dateMax}`, 'InvalidInput');

  // Extract.
  const queue: RangeQuery[] = [{ dateMin: dateMin!, dateMax }];
  const capped: TiteliveResult['capped'] = [];
  let queries = 0;
  // Extract outcomes are cumulative per query; totals are sums over the queries' latest outcomes.
  const perQuery = new Map<string, ExtractOutcome>();
  const total = (k: 'pages' | 'products' | 'articles') => [...perQuery.values()].reduce((n, o) => n + o[k], 0);
  while (queue.length) {
    const query = queue.shift()!;
    queries++;
    progress.set({ phase: `extracting ${queryKey(query)}` });
    let startPage = 1;
    let limited = 0;
    for (;;) {
      const out: ExtractOutcome = await extractor(
        `extract ${category} ${queryKey(query)} from page ${startPage} (query ${queries})`,
      ).titeliveExtract({
        runId,
        category,
        query,
        perPage: input.resultsPerPage,
        startPage,
      });
      perQuery.set(queryKey(query), out);
      progress.state.counters.pages = total('pages');
      progress.state.counters.products = total('products');
      progress.state.counters.articles = total('articles');
      progress.set({ done: total('pages') });
      if (out.status === 'rateLimited') {
        const wait = rateLimitWait(++limited, out.retryAfterMs);
        progress.add('rate_limited');
        progress.set({
          phase: `rate limited on ${queryKey(query)} page ${out.nextPage}`,
          waiting: { reason: 'HTTP 429 from Titelive', until: new Date(workflowNow() + wait).toISOString() },
        });
        await sleep(wait, {
          summary: `Titelive 429 on ${queryKey(query)}: page ${out.nextPage} again in ${formatDuration(wait)} (${limited} in a row)`,
        });
        startPage = out.nextPage;
        continue;
      }
      if (out.status === 'capped') {
        const parts = splitQuery(query);
        if (parts) {
          progress.add('splits');
          queue.unshift(...parts);
        } else capped.push({ ...query, nbreponses: out.nbreponses });
      }
      break;
    }
  }

  // Parse.
  progress.set({ phase: 'parsing' });
  const parsed = await parser(`parse the extracted pages of ${category} into the warehouse`).titeliveParse({
    runId,
    category,
    minModifiedDate: dateMin!,
    imageBatch: input.imageBatch,
    ...(keys.parsed ? { parsedKey: keys.parsed } : {}),
    ...(keys.raw ? { rawKey: keys.raw } : {}),
  });
  progress.add('rows', parsed.uniqueRows);

  const images = await copyImages(input, parsed, keys.images, progress);

  // A query still at the cap is incomplete: the mark must not pass its first day, so the next incremental
  // run covers it again (the queue is in date order, so every day before it is complete).
  let mark = dateMax;
  if (patched('longhaul-titelive-capped-mark') && capped.length)
    mark = capped.reduce((d, q) => (q.dateMin < d ? q.dateMin : d), dateMax);
  await marker(
    mark === dateMax
      ? `move the high-water mark of ${category} to ${dateMax}`
      : `move the high-water mark of ${category} to ${mark} only: ${capped.length} queries still at the result cap`,
  ).titeliveSaveHighWaterMark({ category, date: mark, runId });
  progress.set({ phase: 'done' });
  const result: TiteliveResult = {
    category,
    dateMin: dateMin!,
    dateMax,
    queries,
    capped,
    pages: total('pages'),
    products: total('products'),
    ...outputsOf(parsed, images),
    highWaterMark: mark,
  };
  progress.finish(titelivePipeline.summarize(result));
  return result;
}

/** What a run's result says of its parse and images stages, extracting or parse only. */
const outputsOf = (parsed: ParseOutcome, images: { counts: TiteliveResult['images']; parquet?: string }) => ({
  rows: parsed.uniqueRows,
  articles: parsed.articles,
  filteredOut: parsed.filteredOut,
  typeErrors: parsed.typeErrors,
  parquet: parsed.parquetKey,
  table: parsed.table,
  imagesTable: 'titelive_images',
  images: images.counts,
  ...(parsed.rawKey ? { rawParquet: parsed.rawKey } : {}),
  ...(images.parquet ? { imagesParquet: images.parquet } : {}),
});

/** Parse only (`parseFrom`): a raw Parquet file → parsed rows, images; nothing extracted, no mark moved. */
async function parseOnly(
  input: z.output<typeof titeliveInput>,
  parseFrom: string,
  keys: { parsed?: string; images?: string },
  progress: ProgressTracker,
): Promise<TiteliveResult> {
  const runId = workflowInfo().runId;
  const { category } = input;
  progress.set({ phase: `parsing ${parseFrom}` });
  const parsed = await parser(`parse ${parseFrom} into the warehouse (parse only)`).titeliveParse({
    runId,
    category,
    ...(input.minModifiedDate ? { minModifiedDate: input.minModifiedDate } : {}),
    imageBatch: input.imageBatch,
    source: parseFrom,
    ...(keys.parsed ? { parsedKey: keys.parsed } : {}),
  });
  progress.add('rows', parsed.uniqueRows);
  const images = await copyImages(input, parsed, keys.images, progress);
  progress.set({ phase: 'done' });
  const result: TiteliveResult = {
    category,
    dateMin: null,
    dateMax: null,
    parsedFrom: parseFrom,
    queries: 0,
    capped: [],
    pages: 0,
    products: parsed.products,
    ...outputsOf(parsed, images),
    highWaterMark: null,
  };
  progress.finish(titelivePipeline.summarize(result));
  return result;
}

/**
 * The images of the parsed rows, chunk by chunk, then one more pass over the failures after a durable wait;
 * then, when asked (`imagesOutput`), the parsed rows with their image columns as Parquet.
 */
async function copyImages(
  input: z.output<typeof titeliveInput>,
  parsed: ParseOutcome,
  imagesKey: string | undefined,
  progress: ProgressTracker,
): Promise<{ counts: TiteliveResult['images']; parquet?: string }> {
  const runId = workflowInfo().runId;
  const images = { ok: 0, missing: 0, failed: 0 };
  if (input.images && parsed.images > 0) {
    progress.set({ phase: 'images', unit: 'image chunks', done: 0, total: parsed.imageChunks });
    for (let chunk = 1; chunk <= parsed.imageChunks; chunk++) {
      const r = await imager(`images chunk ${chunk}/${parsed.imageChunks}`).titeliveImages({
        runId,
        chunkPrefix: parsed.imageChunkPrefix,
        chunk,
        imagePrefix: input.imagePrefix,
      });
      images.ok += r.ok;
      images.missing += r.missing;
      images.failed += r.failed;
      progress.add('images_ok', r.ok);
      progress.add('images_missing', r.missing);
      progress.add('images_failed', r.failed);
      progress.set({ done: chunk });
    }
    if (images.failed > 0) {
      progress.set({
        phase: `retrying ${images.failed} failed images`,
        waiting: {
          reason: 'backoff before retrying failed images',
          until: new Date(workflowNow() + input.imageRetryDelay).toISOString(),
        },
      });
      await sleep(input.imageRetryDelay, {
        summary: `${images.failed} image(s) failed: retry once more in ${formatDuration(input.imageRetryDelay)}`,
      });
      const r = await imager(`retry ${images.failed} failed image(s)`).titeliveRetryFailedImages({
        runId,
        imagePrefix: input.imagePrefix,
      });
      images.ok += r.ok;
      images.missing += r.missing;
      images.failed += r.failed - r.retried;
      progress.add('images_ok', r.ok);
      progress.add('images_missing', r.missing);
      progress.add('images_failed', r.failed - r.retried);
    }
  }
  if (!imagesKey) return { counts: images };
  progress.set({ phase: `writing ${imagesKey}` });
  await parser(`write the parsed rows with their image columns to ${imagesKey}`).titeliveImagesParquet({
    runId,
    parsedKey: parsed.parquetKey,
    outputKey: imagesKey,
  });
  return { counts: images, parquet: imagesKey };
}

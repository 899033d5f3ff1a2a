/**
 * The titelive pipeline end to end on the dev server against the Titelive sandbox: 2,000 books with
 * ~3,000 articles → raw pages, Parquet and warehouse rows that match, every cover image in the local
 * bucket (byte for byte), failed images listed with their reasons, and never more open connections to
 * the image host than the configured pool size (counted by the sandbox).
 */
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { runPipeline } from '../../src/cli/run';
import { PIPELINES } from '../../src/pipelines';
import type { TiteliveResult } from '../../src/pipelines/titelive/definition';
import { progressQuery } from '../../src/shared/messages';
import { imageUuid } from '../../src/pipelines/titelive/connector/images';
import { titeliveSandbox } from '../../src/pipelines/titelive/sandbox';
import { articleImageUrls } from '../../src/pipelines/titelive/sandbox/catalog';
import { TiteliveSandbox } from '../../src/pipelines/titelive/sandbox/server';
import { startedForFile } from '../helpers/lifetimes';
import { testDeps, useTemporalServer, withWorker } from '../helpers/temporal';

const POOL = 6;

describe('titelive on the dev server', () => {
  let env: TestWorkflowEnvironment;
  useTemporalServer('dev', (e) => (env = e));
  const sandbox = startedForFile(new TiteliveSandbox({ seed: 5 }));

  it('extracts 2,000 products, writes matching Parquet and warehouse rows, copies every image', async () => {
    const deps = testDeps({
      ...titeliveSandbox.env(sandbox.url),
      TITELIVE_IMAGE_POOL_SIZE: String(POOL),
      TITELIVE_IMAGE_CONCURRENCY: '24',
      TITELIVE_IMAGE_RETRY_BACKOFF_MS: '5', // the 10 retries of a broken image, in milliseconds
      TITELIVE_IMAGE_RETRY_MAX_MS: '50',
    });
    const books = sandbox.catalog.filter((p) => p.base === 'paper');
    const articles = books.flatMap((p) => p.articles.map((a) => ({ p, a })));
    expect(books).toHaveLength(2000);
    expect(articles.length).toBeGreaterThan(2800);

    const { outcome, progress } = await withWorker(env, deps, async (taskQueue) => {
      const pipeline = { ...PIPELINES.titelive, taskQueue };
      const input = {
        category: 'LIVRE',
        minModifiedDate: '2025-01-01',
        maxModifiedDate: '2025-12-31',
        imageRetryDelay: '2s',
      };
      const outcome = await runPipeline(env.client, deps.config, pipeline, input, { wait: true }, () => {});
      const progress = await env.client.workflow.getHandle(outcome.workflowId).query(progressQuery);
      return { outcome, progress };
    });
    expect(outcome.status).toBe('completed');
    const result = outcome.result as TiteliveResult;
    expect(result).toMatchObject({ products: 2000, rows: articles.length, articles: articles.length, pages: 17 });
    expect(outcome.summary).toMatch(/2000 products/);
    // "None" weights are nulls; "288 p." page counts do not fit INT64: null, and counted.
    const dirty = articles.filter(({ p }) => p.id % 97 === 0).length;
    expect(dirty).toBeGreaterThan(0);
    expect(result.typeErrors).toEqual({ article_pages: dirty });

    // Parquet and warehouse hold the same rows.
    const file = path.join(deps.dir, 'bucket', ...result.parquet.split('/')).replace(/'/g, "''");
    const [{ pq, wh, diff }] = await deps.warehouse.query<{ pq: number; wh: number; diff: number }>(
      `SELECT (SELECT count(*) FROM read_parquet('${file}')) AS pq,
              (SELECT count(*) FROM titelive_products) AS wh,
              (SELECT count(*) FROM (SELECT * FROM read_parquet('${file}') EXCEPT ALL SELECT * FROM titelive_products)) +
              (SELECT count(*) FROM (SELECT * FROM titelive_products EXCEPT ALL SELECT * FROM read_parquet('${file}'))) AS diff`,
    );
    expect({ pq, wh, diff }).toEqual({ pq: articles.length, wh: articles.length, diff: 0 });
    const [accent] = await deps.warehouse.query<{ titre: string; resume: string }>(
      `SELECT titre, article_resume AS resume FROM titelive_products WHERE id = '${books[0].id}' LIMIT 1`,
    );
    expect(accent).toEqual({ titre: books[0].title, resume: books[0].summary });

    // Every image: the expected status, and the exact bytes in the bucket for the ok ones.
    const statuses = await deps.warehouse.query<{
      article_id: string;
      side: string;
      status: string;
      reason: string | null;
      object_key: string | null;
      source_url: string | null;
    }>(`SELECT article_id, side, status, reason, object_key, source_url FROM titelive_images ORDER BY 1, 2`);
    expect(statuses).toHaveLength(articles.length * 2);
    const byKey = new Map(statuses.map((s) => [`${s.article_id}/${s.side}`, s]));
    const counts = { ok: 0, missing: 0, failed: 0 };
    for (const { p, a } of articles)
      for (const side of ['recto', 'verso'] as const) {
        const row = byKey.get(`${a.gencod}/${side}`)!;
        const listed = articleImageUrls(p, a)?.[side];
        if (!listed) {
          expect(row).toMatchObject({ status: 'missing', reason: 'no URL listed', source_url: null });
          counts.missing++;
          continue;
        }
        expect(row.source_url).toBe(listed);
        const behaviour = sandbox.images.behaviour(new URL(listed).pathname);
        if (behaviour === 'missing') {
          expect(row).toMatchObject({ status: 'missing', reason: 'HTTP 404' });
          counts.missing++;
        } else if (behaviour === 'broken') {
          expect(row.status).toBe('failed');
          expect(row.reason).toMatch(/^HTTP 500 after 11 attempts$/); // the first and 10 retries (the seed's policy)
          counts.failed++;
        } else {
          expect(row).toMatchObject({ status: 'ok', object_key: `titelive/images/${imageUuid(listed)}` });
          const body = await deps.bucket.get(row.object_key!);
          expect(body.equals(sandbox.images.bytes(new URL(listed).pathname))).toBe(true);
          counts.ok++;
        }
      }
    // The shared placeholder: listed by many articles, fetched once per images activity, one object.
    const placeholder = statuses.filter((s) => s.source_url?.endsWith('/no_ebook.png'));
    const fetched = sandbox.images.log.filter((e) => e.path === '/no_ebook.png').length;
    expect(placeholder.length).toBeGreaterThan(50);
    expect(fetched).toBeLessThanOrEqual(Math.ceil((articles.length * 2) / 500) * 3);
    expect(new Set(placeholder.map((s) => s.object_key)).size).toBe(1);
    expect(result.images).toEqual(counts);
    expect(counts.failed).toBeGreaterThan(0);
    expect(counts.missing).toBeGreaterThan(0);
    expect((await deps.bucket.list('titelive/images/')).length).toBe(
      new Set(statuses.map((s) => s.object_key).filter(Boolean)).size,
    );

    // The image host never saw more connections than the pool, and the pool was used.
    expect(sandbox.images.peakConnections).toBeLessThanOrEqual(POOL);
    expect(sandbox.images.peakConnections).toBeGreaterThan(1);
    expect(sandbox.images.totalConnections).toBeLessThan(counts.ok / 10);

    expect(progress).toMatchObject({
      pipeline: 'titelive',
      phase: 'done',
      counters: { pages: 17, products: 2000, images_ok: counts.ok, images_failed: counts.failed },
    });
  });
});

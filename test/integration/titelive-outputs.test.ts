/**
 * The replaced Titelive scripts' hand-off files, on the dev server against the Titelive sandbox: one run writes
 * the raw products (`id`, `data`), the parsed rows and the images file (parsed rows + the eight recto/verso
 * columns) as Parquet at keys of the user's choosing; a parse-only run reads a raw file the way the scripts
 * wrote it (from the worker's input folder) and gives the same rows; a bad raw file fails the run naming
 * `--parse-from`, before anything is loaded. Each file is checked against the sandbox's catalog and the
 * warehouse, not against another run of the same code.
 */
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { WorkflowFailedError } from '@temporalio/client';
import { paths } from '../../src/config';
import type { TiteliveInput, TiteliveResult } from '../../src/pipelines/titelive/definition';
import { titeliveSandbox } from '../../src/pipelines/titelive/sandbox';
import { articleImageUrls } from '../../src/pipelines/titelive/sandbox/catalog';
import { TiteliveSandbox } from '../../src/pipelines/titelive/sandbox/server';
import { rootCause } from '../../src/cli/run';
import { startedForFile } from '../helpers/lifetimes';
import { rejection } from '../helpers/rejection';
import { testDeps, uniqueQueue, useTemporalServer, withWorker } from '../helpers/temporal';

const BOOKS = 150;

describe('titelive hand-off files (Parquet at chosen keys) and parse only', () => {
  let env: TestWorkflowEnvironment;
  useTemporalServer('dev', (e) => (env = e));
  const sandbox = startedForFile(new TiteliveSandbox({ seed: 11, catalog: { books: BOOKS, music: 0 } }));

  it('writes raw, parsed and images Parquet where asked, and parses a raw file alone into the same rows', async () => {
    const deps = testDeps(titeliveSandbox.env(sandbox.url));
    const file = (key: string) => path.join(deps.dir, 'bucket', ...key.split('/')).replace(/'/g, "''");
    const query = <T>(sql: string) => deps.warehouse.query<T>(sql);
    const books = sandbox.catalog.filter((p) => p.base === 'paper');
    const articles = books.flatMap((p) => p.articles.map((a) => ({ p, a })));

    await withWorker(env, deps, async (taskQueue) => {
      const run = (input: TiteliveInput) =>
        env.client.workflow.execute('titelive', { taskQueue, workflowId: uniqueQueue('tl-out'), args: [input] });

      // 1. A full run with the three files; the keys' placeholders are filled in.
      const first: TiteliveResult = await run({
        category: 'LIVRE',
        minModifiedDate: '2025-01-01',
        imageRetryDelay: '1s',
        rawOutput: 'handoff/{category}/{day}/raw_products.parquet',
        parsedOutput: 'handoff/{category}/processed-{runId}.parquet',
        imagesOutput: 'handoff/products_with_images.parquet',
      });
      const day = new Date().toISOString().slice(0, 10);
      expect(first.rawParquet).toBe(`handoff/LIVRE/${day}/raw_products.parquet`);
      expect(first.parquet).toMatch(/^handoff\/LIVRE\/processed-[0-9a-f-]{36}\.parquet$/);
      expect(first.imagesParquet).toBe('handoff/products_with_images.parquet');
      expect(first).toMatchObject({ products: BOOKS, rows: articles.length });
      expect(await deps.bucket.list('titelive/parquet/')).toEqual([]); // not also at the default key

      // The raw file: id and data only, one row per product, each data the product's JSON as the API sent it.
      const raw = await query<{ id: string; data: string }>(
        `SELECT id, data FROM read_parquet('${file(first.rawParquet!)}') ORDER BY id`,
      );
      const rawColumns = await query<{ column_name: string }>(
        `SELECT column_name FROM (DESCRIBE SELECT * FROM read_parquet('${file(first.rawParquet!)}'))`,
      );
      expect(rawColumns.map((c) => c.column_name)).toEqual(['id', 'data']);
      expect(raw.map((r) => r.id).sort()).toEqual(books.map((p) => String(p.id)).sort());
      for (const r of raw) {
        const product = JSON.parse(r.data) as { id: unknown; titre: unknown; article: unknown };
        const book = books.find((p) => String(p.id) === r.id)!;
        expect(String(product.id)).toBe(r.id);
        expect(Object.keys(product.article as object)).toHaveLength(book.articles.length);
      }

      // The parsed file holds exactly the warehouse's rows.
      const [{ pq, diff }] = await query<{ pq: number; diff: number }>(
        `SELECT (SELECT count(*) FROM read_parquet('${file(first.parquet)}')) AS pq,
                (SELECT count(*) FROM (SELECT * FROM read_parquet('${file(first.parquet)}') EXCEPT ALL SELECT * FROM titelive_products)) +
                (SELECT count(*) FROM (SELECT * FROM titelive_products EXCEPT ALL SELECT * FROM read_parquet('${file(first.parquet)}'))) AS diff`,
      );
      expect({ pq, diff }).toEqual({ pq: articles.length, diff: 0 });

      // The images file: the parsed columns, then the script's eight, each agreeing with titelive_images.
      const imagesFile = file(first.imagesParquet!);
      const parsedCols = (
        await query<{ column_name: string }>(
          `SELECT column_name FROM (DESCRIBE SELECT * FROM read_parquet('${file(first.parquet)}'))`,
        )
      ).map((c) => c.column_name);
      const imageCols = (
        await query<{ column_name: string; column_type: string }>(
          `SELECT column_name, column_type FROM (DESCRIBE SELECT * FROM read_parquet('${imagesFile}'))`,
        )
      ).map((c) => `${c.column_name} ${c.column_type}`);
      const status = 'STRUCT(success BOOLEAN, url VARCHAR, message VARCHAR)';
      expect(imageCols.slice(parsedCols.length)).toEqual([
        'recto VARCHAR',
        'recto_uuid VARCHAR',
        'recto_gcs_path VARCHAR',
        `recto_upload_status ${status}`,
        'verso VARCHAR',
        'verso_uuid VARCHAR',
        'verso_gcs_path VARCHAR',
        `verso_upload_status ${status}`,
      ]);
      const withImages = await query<{
        article_id: string;
        recto: string | null;
        recto_gcs_path: string | null;
        recto_ok: boolean;
        recto_message: string;
        verso: string | null;
        verso_ok: boolean;
        verso_message: string;
        verso_gcs_path: string | null;
      }>(
        `SELECT article_id, recto, recto_gcs_path, recto_upload_status.success AS recto_ok,
                recto_upload_status.message AS recto_message, verso, verso_gcs_path,
                verso_upload_status.success AS verso_ok, verso_upload_status.message AS verso_message
         FROM read_parquet('${imagesFile}')`,
      );
      expect(withImages).toHaveLength(articles.length);
      const byArticle = new Map(withImages.map((r) => [r.article_id, r]));
      const seen = { ok: 0, missing: 0, failed: 0 };
      for (const { p, a } of articles) {
        const row = byArticle.get(a.gencod)!;
        const urls = articleImageUrls(p, a);
        for (const side of ['recto', 'verso'] as const) {
          const listed = urls?.[side] ?? null;
          expect(row[side]).toBe(listed);
          const ok = row[`${side}_ok`];
          const gcs = row[`${side}_gcs_path`];
          if (!listed) {
            expect({ ok, message: row[`${side}_message`], gcs }).toEqual({
              ok: false,
              message: 'no URL listed',
              gcs: null,
            });
            seen.missing++;
            continue;
          }
          const behaviour = sandbox.images.behaviour(new URL(listed).pathname);
          if (behaviour !== 'missing' && behaviour !== 'broken') {
            expect(ok).toBe(true);
            // The copied object's URI, and its bytes are the host's.
            expect(gcs).toMatch(/^file:\/\/.*\/titelive\/images\/[0-9a-f-]{36}$/);
            const key = gcs!.slice(gcs!.indexOf('/titelive/images/') + 1);
            expect((await deps.bucket.get(key)).equals(sandbox.images.bytes(new URL(listed).pathname))).toBe(true);
            seen.ok++;
          } else {
            expect({ ok, gcs }).toEqual({ ok: false, gcs: null });
            expect(row[`${side}_message`]).toMatch(
              behaviour === 'missing' ? /^HTTP 404$/ : /^HTTP 500 after 11 attempts$/,
            );
            seen[behaviour === 'missing' ? 'missing' : 'failed']++;
          }
        }
      }
      expect(seen).toEqual(first.images);
      expect(seen.ok * seen.missing * seen.failed).toBeGreaterThan(0);

      // 2. Parse only, from a raw file written the way the extract script wrote it (id, data, and whatever
      // else), in the worker's input folder: the same rows as the full run, no high-water mark moved.
      const inputDir = paths.input(deps.config);
      fs.mkdirSync(path.join(inputDir, 'data'), { recursive: true });
      const seedRaw = path.join(inputDir, 'data', 'raw_products.parquet').replace(/'/g, "''");
      await query(
        `COPY (SELECT data, id, 'x' AS extracted_by FROM read_parquet('${file(first.rawParquet!)}') ORDER BY random())
         TO '${seedRaw}' (FORMAT PARQUET)`,
      );
      const [{ n: marksBefore }] = await query<{ n: number }>('SELECT count(*) AS n FROM titelive_state');
      const second: TiteliveResult = await run({
        category: 'LIVRE',
        parseFrom: 'data/raw_products.parquet',
        minModifiedDate: '2025-01-01',
        images: false,
        parsedOutput: 'handoff/processed_again.parquet',
      });
      expect(second).toMatchObject({
        parsedFrom: 'data/raw_products.parquet',
        dateMin: null,
        highWaterMark: null,
        pages: 0,
        products: BOOKS,
        rows: articles.length,
        parquet: 'handoff/processed_again.parquet',
        images: { ok: 0, missing: 0, failed: 0 },
      });
      const cols = parsedCols.filter((c) => c !== 'run_id' && c !== 'extracted_at').join(', ');
      const [{ same }] = await query<{ same: number }>(
        `SELECT count(*) AS same FROM (
           SELECT ${cols} FROM read_parquet('${file(first.parquet)}')
           INTERSECT ALL SELECT ${cols} FROM read_parquet('${file(second.parquet)}'))`,
      );
      expect(same).toBe(articles.length);
      expect((await query<{ n: number }>('SELECT count(*) AS n FROM titelive_state'))[0].n).toBe(marksBefore);

      // The same raw file through s3:// (the configured bucket), with a filter on the modification day.
      const filtered: TiteliveResult = await run({
        category: 'LIVRE',
        parseFrom: `s3://longhaul/${first.rawParquet!}`,
        minModifiedDate: '2099-01-01',
        images: false,
      });
      expect(filtered).toMatchObject({ products: BOOKS, filteredOut: articles.length });

      // 3. Bad raw files fail the run naming --parse-from, before anything is loaded.
      const [{ n: rowsBefore }] = await query<{ n: number }>('SELECT count(*) AS n FROM titelive_products');
      const noData = path.join(inputDir, 'no-data.parquet').replace(/'/g, "''");
      await query(`COPY (SELECT 1 AS id, 'x' AS payload) TO '${noData}' (FORMAT PARQUET)`);
      const badJson = path.join(inputDir, 'bad-json.parquet').replace(/'/g, "''");
      await query(`COPY (SELECT '1' AS id, '{"id": 1, "titre": ' AS data) TO '${badJson}' (FORMAT PARQUET)`);
      fs.writeFileSync(path.join(inputDir, 'not-parquet.parquet'), 'id,data\n1,{}\n');
      const failures: [string, RegExp][] = [
        [
          'no-data.parquet',
          /^--parse-from: no-data\.parquet has no "data" column .*; it has 2 column\(s\), not named here/,
        ],
        ['bad-json.parquet', /^--parse-from: bad-json\.parquet, row 1: data is not JSON \(/],
        ['not-parquet.parquet', /^--parse-from: not-parquet\.parquet is not a Parquet file DuckDB can read \(/],
        ['missing.parquet', /^--parse-from: missing\.parquet not found in the worker's input folder/],
        [
          's3://longhaul/nope.parquet',
          /^--parse-from: raw Parquet file not found in the bucket: s3:\/\/longhaul\/nope/,
        ],
        ['../outside.parquet', /^--parse-from: \.\.\/outside\.parquet is outside the worker's input folder/],
      ];
      for (const [parseFrom, message] of failures) {
        const err = await rejection(
          run({ category: 'LIVRE', parseFrom, images: false }),
          WorkflowFailedError,
          parseFrom,
        );
        expect(rootCause(err), parseFrom).toMatch(message);
        expect(rootCause(err), parseFrom).not.toMatch(/payload|titre/); // never the file's content
      }
      expect((await query<{ n: number }>('SELECT count(*) AS n FROM titelive_products'))[0].n).toBe(rowsBefore);
    });
  });
});

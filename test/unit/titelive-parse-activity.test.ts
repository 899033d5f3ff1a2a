/**
 * The titelive parse activity's scratch database is bounded as the worker's warehouse is (DUCKDB_MEMORY_LIMIT,
 * DUCKDB_THREADS), and its de-duplication holds keys, not whole rows, so a catalog larger than the limit parses.
 */
import fs from 'node:fs';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterEach, describe, expect, it } from 'vitest';
import { MockActivityEnvironment } from '@temporalio/testing';
import { createTiteliveParseActivities, type ParseOutcome } from '../../src/pipelines/titelive/activities/parse';
import { rawPrefix } from '../../src/pipelines/titelive/activities/extract';
import { generateCatalog, renderItem } from '../../src/pipelines/titelive/sandbox/catalog';
import { DuckDbWarehouse } from '../../src/sinks/duckdb';
import { LocalBucket } from '../../src/sinks/local-bucket';
import { liveAttempt } from '../helpers/activity';
import { tmpDir } from '../helpers/temporal';

const open: DuckDbWarehouse[] = [];
afterEach(async () => {
  for (const w of open.splice(0)) await w.close();
});

/**
 * A run's raw pages (as the extract writes them): `books` products with a summary of `summaryKb` each, then a
 * last page with the first 10 again, retitled (a product can come back in a later query: the last one wins).
 */
function landPages(bucket: LocalBucket, runId: string, books: number, summaryKb: number) {
  const catalog = generateCatalog({ books, music: 0 });
  const summary = 'Résumé '.repeat(Math.ceil((summaryKb * 1024) / 8));
  const pages = Array.from({ length: Math.ceil(catalog.length / 200) }, (_, i) =>
    catalog.slice(i * 200, (i + 1) * 200),
  );
  pages.push(catalog.slice(0, 10).map((p) => ({ ...p, title: 'Réédition' })));
  for (const [page, products] of pages.entries()) {
    const lines = products.map((p) => {
      const item = renderItem({ ...p, summary });
      return JSON.stringify({ id: String(item.id), data: JSON.stringify(item) });
    });
    const file = bucket.pathOf(`${rawPrefix('LIVRE', runId)}q/page-${String(page).padStart(5, '0')}.ndjson.gz`);
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(file, gzipSync(lines.join('\n') + '\n'));
  }
  return catalog;
}

function activities(memoryLimit: string) {
  const dir = tmpDir();
  const bucket = new LocalBucket(path.join(dir, 'bucket'));
  const warehouse = new DuckDbWarehouse({ path: path.join(dir, 'w.duckdb'), memoryLimit: '256MB', threads: 2 });
  open.push(warehouse);
  const parse = createTiteliveParseActivities({ bucket, warehouse, duckdb: { memoryLimit, threads: 2 } });
  return { bucket, warehouse, parse };
}
const run = (parse: ReturnType<typeof activities>['parse'], runId: string) =>
  new MockActivityEnvironment(liveAttempt()).run(parse.titeliveParse, {
    runId,
    category: 'LIVRE',
    imageBatch: 500,
  }) as Promise<ParseOutcome>;

describe('titelive parse activity (scratch database)', () => {
  it('parses a catalog larger than its memory limit: the de-duplication holds keys, not whole rows', async () => {
    // 4,468 articles with a 12 KB summary each: ~55 MB of text staged, twice that once typed, at a 128MB limit
    // (a window over whole rows, then a sort of the whole table for each batch read back, ran out of it).
    const { bucket, warehouse, parse } = activities('128MB');
    const catalog = landPages(bucket, 'r1', 3000, 12);
    const articles = catalog.reduce((n, p) => n + p.articles.length, 0);
    expect(articles).toBe(4468);
    const out = await run(parse, 'r1');
    expect(out.uniqueRows).toBe(articles);
    expect(await warehouse.query('SELECT count(*) AS n FROM titelive_products')).toEqual([{ n: articles }]);
    // The products read again last are the ones kept.
    const again = catalog.slice(0, 10).map((p) => `'${p.id}'`);
    const titles = await warehouse.query(
      `SELECT DISTINCT titre FROM titelive_products WHERE id IN (${again.join(', ')}) ORDER BY titre`,
    );
    expect(titles).toEqual([{ titre: 'Réédition' }]);
  }, 120_000);

  it('is bounded by the worker’s DUCKDB_MEMORY_LIMIT, not DuckDB’s default (most of the machine)', async () => {
    const { bucket, parse } = activities('4MB');
    landPages(bucket, 'r2', 3000, 12);
    // DuckDB's own default would take most of the machine's memory and parse it. The error names the variable.
    await expect(run(parse, 'r2')).rejects.toThrow(
      /^DuckDB ran out of memory within its limit \(DUCKDB_MEMORY_LIMIT=4MB, DUCKDB_THREADS=2\)/,
    );
  }, 120_000);
});

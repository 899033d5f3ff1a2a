/**
 * The titelive parse stage on a page shaped like recorded API responses: `result` keyed "0", "1"…,
 * articles as an object keyed by number and as a list, `auteurs_multi` as list/object/string, HTML
 * entities, "None"/"nan" nulls, numbers as strings, unknown keys kept in the *_extra columns.
 */
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { resultItems, searchEnvelopeSchema } from '../../src/pipelines/titelive/connector/schemas';
import {
  coerce,
  emptyStats,
  explodeArticles,
  imagesOf,
  normalizeAuthors,
  parseApiDate,
  parseProduct,
  TITELIVE_PRODUCTS_TABLE,
} from '../../src/pipelines/titelive/connector/parse';

const page = searchEnvelopeSchema.parse(
  JSON.parse(fs.readFileSync(path.join(__dirname, '../fixtures/titelive/search-page.json'), 'utf8')),
);
const items = resultItems(page.result) as Record<string, unknown>[];
const opts = { category: 'LIVRE', runId: 'run-1', extractedAt: '2026-01-02T03:04:05.000Z' };

describe('titelive parse', () => {
  it('reads result keyed "0", "1"… in order, as a list', () => {
    expect(items.map((i) => String(i.id))).toEqual(['2842547', '871729', '3634325']);
    expect(resultItems({})).toEqual([]);
    expect(resultItems([{ id: 1 }])).toEqual([{ id: 1 }]);
  });

  it('explodes articles from an object keyed by number or from a list', () => {
    expect(explodeArticles(items[0].article).map(([k, a]) => [k, a.gencod])).toEqual([
      ['1', '9782370730541'],
      ['2', '9782370731111'],
    ]);
    expect(explodeArticles(items[1].article).map(([k]) => k)).toEqual(['1']);
    expect(explodeArticles({ '10': { a: 1 }, '2': { a: 2 } }).map(([k]) => k)).toEqual(['2', '10']);
    expect(explodeArticles(null)).toEqual([]);
  });

  it('turns a product into one typed row per article, with the article_ prefix', () => {
    const stats = emptyStats();
    const rows = parseProduct(items[0], opts, stats);
    expect(rows).toHaveLength(2);
    const [a, b] = rows;
    expect(a).toMatchObject({
      id: '2842547',
      article_id: '9782370730541',
      titre: "L'Arabe du futur Tome 2 : une jeunesse au Moyen-Orient (1984-1985)",
      auteurs_multi: '["Riad Sattouf"]',
      auteurs_id: '[]',
      typeproduit: 1,
      article_gencod: '9782370730541',
      article_prix: 22.9,
      article_prixpays: '{"fr":{"value":22.9,"devise":"€"}}',
      article_taux_tva: 5.5,
      article_pages: 160,
      article_poids: 540,
      article_image: 1,
      article_iad: 0,
      article_typeproduit: 0,
      article_dateparution: '2015-06-11',
      article_datecreation: '2015-03-05',
      article_datemodification: '2024-02-23',
      article_resume: "Vendue à plus de 3 millions d'exemplaires, de Rennes au cap Fréhel.",
      article_gtl: '{"first":{"1":{"code":"3000000","libelle":"Bandes dessinées / Comics / Mangas"}}}',
      article_bonus_extraits: '{"gencod":"9782370730541","pdfextrait":"0"}',
      article_extra: '{"sorecop":0}',
      extra: null,
      category: 'LIVRE',
      run_id: 'run-1',
      extracted_at: '2026-01-02T03:04:05.000Z',
    });
    expect(JSON.parse(a.article_imagesUrl as string)).toEqual({
      recto: 'https://images.epagine.fr/541/9782370730541_1_75.jpg',
      vign: 'https://images.epagine.fr/541/9782370730541_1_v.jpg',
      verso: 'https://images.epagine.fr/541/9782370730541_4_75.jpg',
    });
    // "nan" and "None" are nulls; an article without images has no imagesUrl.
    expect(b).toMatchObject({
      article_id: '9782370731111',
      article_prix: null,
      article_resume: null,
      article_imagesUrl: null,
    });
    expect(stats).toEqual({ products: 1, articles: 2, rows: 2, filteredOut: 0, typeErrors: {} });
    // Every declared column is present in every row, nothing else.
    expect(Object.keys(a).sort()).toEqual(TITELIVE_PRODUCTS_TABLE.columns.map((c) => c.name).sort());
  });

  it('normalises auteurs_multi given as a list, an object or a string', () => {
    expect(parseProduct(items[1], opts)[0].auteurs_multi).toBe('["Gims","Dadju"]');
    expect(parseProduct(items[2], opts)[0].auteurs_multi).toBe('["Paule Giron"]');
    expect(normalizeAuthors(['A', 2, null])).toEqual(['A', '2']);
    expect(normalizeAuthors('None')).toBeNull();
  });

  it('keeps music fields, counts values that do not fit their type, keeps unknown keys', () => {
    const stats = emptyStats();
    const [m] = parseProduct(items[1], opts, stats);
    expect(m).toMatchObject({
      id: '871729',
      titre: 'Les dernières volontés de Mozart (symphony)',
      article_id: '3700187679323',
      article_dispo: 1,
      article_typeproduit: 4,
      article_taux_tva: 0,
      article_nb_galettes: 1,
      article_artiste: 'Gims',
      article_label: 'PLAY TWO',
      article_tracks: '[]',
      article_pages: null,
      article_resume: 'GIMS revient avec " Les dernières volontés "',
      article_extra: '{"ReferenceInterne":"BLV7932"}',
    });
    expect(stats.typeErrors).toEqual({});
    const bad = emptyStats();
    parseProduct({ id: 1, article: [{ gencod: 'x', pages: 'douze', prix: '12,5' }] }, opts, bad);
    expect(bad.typeErrors).toEqual({ article_pages: 1 });
  });

  it('filters articles modified before the requested date (articles without a date are kept)', () => {
    const stats = emptyStats();
    const rows = parseProduct(items[0], { ...opts, minModifiedDate: '2024-01-01' }, stats);
    expect(rows.map((r) => r.article_id)).toEqual(['9782370730541']);
    expect(stats.filteredOut).toBe(1);
    const undated = parseProduct(
      { id: 9, article: { '1': { gencod: '1' } } },
      { ...opts, minModifiedDate: '2030-01-01' },
    );
    expect(undated).toHaveLength(1);
  });

  it('gives a product without articles one row, and articles without gencod a positional id', () => {
    expect(parseProduct({ id: 5, titre: 'x', article: [] }, opts)[0]).toMatchObject({ id: '5', article_id: '#none' });
    expect(parseProduct({ id: 6, article: [{ prix: 1 }, { prix: 2 }] }, opts).map((r) => r.article_id)).toEqual([
      '#1',
      '#2',
    ]);
  });

  it('converts dates and coerces declared types', () => {
    expect(parseApiDate('23/02/2024')).toBe('2024-02-23');
    expect(parseApiDate('31/02/2024')).toBeNull();
    expect(parseApiDate('00/00/0000')).toBeNull();
    expect(parseProduct(items[2], opts)[0].article_dateparution).toBeNull();
    expect(coerce('5.50', 'FLOAT64')).toEqual({ value: 5.5 });
    expect(coerce('1.5', 'INT64').error).toMatch(/not INT64/);
    expect(coerce({ a: 1 }, 'STRING')).toEqual({ value: '{"a":1}' });
    expect(coerce('NaN', 'STRING')).toEqual({ value: null });
  });

  it('lists the recto and verso of every article, null when not listed', () => {
    const rows = parseProduct(items[0], opts);
    expect(rows.flatMap(imagesOf)).toEqual([
      {
        product_id: '2842547',
        article_id: '9782370730541',
        side: 'recto',
        url: 'https://images.epagine.fr/541/9782370730541_1_75.jpg',
      },
      {
        product_id: '2842547',
        article_id: '9782370730541',
        side: 'verso',
        url: 'https://images.epagine.fr/541/9782370730541_4_75.jpg',
      },
      { product_id: '2842547', article_id: '9782370731111', side: 'recto', url: null },
      { product_id: '2842547', article_id: '9782370731111', side: 'verso', url: null },
    ]);
  });
});

/**
 * The parse stage as pure functions: one raw Titelive product (as the search returns it) → one row per
 * article. Articles (an object keyed "1", "2", … or a list) are exploded with the `article_` prefix; HTML
 * entities are decoded everywhere; `auteurs_multi` (list, string or object) becomes a JSON list of names;
 * articles modified before the requested date are dropped; declared columns get their declared types
 * (values that do not fit become null and are counted); nested objects and lists are JSON strings;
 * "None"/"nan"/""-style nulls become null. Keys the schema does not declare are kept, as JSON, in
 * `extra` / `article_extra`, so nothing the API sends is lost.
 */
import { decodeHTML } from 'entities';
import type { Column, ColumnType, Row, TableSchema } from '../../../sinks/warehouse';

type Decl = [name: string, type: ColumnType];

const PRODUCT_FIELDS: Decl[] = [
  ['titre', 'STRING'],
  ['auteurs', 'STRING'],
  ['auteurs_multi', 'JSON'],
  ['auteurs_id', 'JSON'],
  ['auteurs_fonctions', 'JSON'],
  ['realisateur_multi', 'JSON'],
  ['biographies', 'JSON'],
  ['websites', 'JSON'],
  ['typeproduit', 'INT64'],
];

const ARTICLE_FIELDS: Decl[] = [
  ['gencod', 'STRING'],
  ['nombre', 'INT64'],
  ['editeur', 'STRING'],
  ['distributeur', 'STRING'],
  ['code_distributeur', 'STRING'],
  ['diffuseur', 'STRING'],
  ['prix', 'FLOAT64'],
  ['prixpays', 'JSON'],
  ['taux_tva', 'FLOAT64'],
  ['code_tva', 'STRING'],
  ['dateparution', 'DATE'],
  ['dateparutionentier', 'INT64'],
  ['datecreation', 'DATE'],
  ['datecreationentier', 'INT64'],
  ['datemodification', 'DATE'],
  ['dispo', 'INT64'],
  ['dispopays', 'JSON'],
  ['libelledispo', 'STRING'],
  ['resume', 'STRING'],
  ['collection', 'STRING'],
  ['collection_no', 'STRING'],
  ['image', 'INT64'],
  ['image_spe', 'INT64'],
  ['image_4', 'INT64'],
  ['imagesUrl', 'JSON'],
  ['detailUrl', 'STRING'],
  ['langue', 'STRING'],
  ['langueiso', 'STRING'],
  ['codesupport', 'STRING'],
  ['libellesupport', 'STRING'],
  ['pages', 'INT64'],
  ['longueur', 'FLOAT64'],
  ['largeur', 'FLOAT64'],
  ['hauteur', 'FLOAT64'],
  ['epaisseur', 'FLOAT64'],
  ['poids', 'FLOAT64'],
  ['serie', 'STRING'],
  ['idserie', 'STRING'],
  ['scolaire', 'INT64'],
  ['livre_etranger', 'INT64'],
  ['racine_editeur', 'STRING'],
  ['code_editeur', 'STRING'],
  ['code_clil', 'STRING'],
  ['type_prix', 'STRING'],
  ['iad', 'INT64'],
  ['typeproduit', 'INT64'],
  ['id_lectorat', 'INT64'],
  ['stock', 'INT64'],
  ['nbmag', 'INT64'],
  ['gtl', 'JSON'],
  ['id_catalogue', 'JSON'],
  ['bonus_extraits', 'JSON'],
  ['commentaire', 'STRING'],
  ['interprete', 'STRING'],
  ['interpretes', 'JSON'],
  ['artiste', 'STRING'],
  ['compositeur', 'STRING'],
  ['label', 'STRING'],
  ['nb_galettes', 'INT64'],
  ['nbtracks', 'INT64'],
  ['tracks', 'JSON'],
];

/** A product row is one article of one product. */
export const PRODUCT_KEYS = ['id', 'article_id'];

export const TITELIVE_PRODUCTS_TABLE: TableSchema = {
  name: 'titelive_products',
  columns: [
    { name: 'id', type: 'STRING', nullable: false },
    { name: 'article_id', type: 'STRING', nullable: false },
    ...PRODUCT_FIELDS.map(([name, type]): Column => ({ name, type })),
    { name: 'extra', type: 'JSON' },
    ...ARTICLE_FIELDS.map(([name, type]): Column => ({ name: `article_${name}`, type })),
    { name: 'article_extra', type: 'JSON' },
    { name: 'category', type: 'STRING', nullable: false },
    { name: 'run_id', type: 'STRING', nullable: false },
    { name: 'extracted_at', type: 'TIMESTAMP', nullable: false },
  ],
  primaryKey: PRODUCT_KEYS,
  write: { kind: 'merge' },
};

const NULL_TEXT = new Set(['', 'none', 'nan', 'null', 'undefined', 'n/a', '00/00/0000']);

/** Null, undefined and the textual spellings of "nothing" ("None", "nan", "NaN", "null", ""…). */
export function isNullish(v: unknown): boolean {
  if (v === null || v === undefined) return true;
  if (typeof v === 'number') return Number.isNaN(v);
  if (typeof v === 'string') return NULL_TEXT.has(v.trim().toLowerCase());
  return false;
}

/** Decodes HTML entities in every string of a JSON value (keys included). */
export function decodeEntities(v: unknown): unknown {
  if (typeof v === 'string') return v.includes('&') ? decodeHTML(v) : v;
  if (Array.isArray(v)) return v.map(decodeEntities);
  if (v && typeof v === 'object')
    return Object.fromEntries(Object.entries(v).map(([k, x]) => [decodeEntities(k) as string, decodeEntities(x)]));
  return v;
}

/** DD/MM/YYYY (optionally followed by a time) → YYYY-MM-DD; null when it is not a real date. */
export function parseApiDate(v: unknown): string | null {
  if (typeof v !== 'string') return null;
  const m = /^(\d{2})\/(\d{2})\/(\d{4})/.exec(v.trim());
  if (!m) return /^\d{4}-\d{2}-\d{2}$/.test(v.trim()) ? v.trim() : null;
  const iso = `${m[3]}-${m[2]}-${m[1]}`;
  const d = new Date(`${iso}T00:00:00Z`);
  return Number.isNaN(d.getTime()) || d.toISOString().slice(0, 10) !== iso ? null : iso;
}

/** The articles of a product, as [key, article] pairs: an object keyed by number or a list (key = position). */
export function explodeArticles(article: unknown): [string, Record<string, unknown>][] {
  const isObj = (x: unknown): x is Record<string, unknown> => !!x && typeof x === 'object' && !Array.isArray(x);
  if (Array.isArray(article)) return article.filter(isObj).map((a, i) => [String(i + 1), a]);
  if (isObj(article))
    return Object.keys(article)
      .sort((a, b) => Number(a) - Number(b) || a.localeCompare(b))
      .filter((k) => isObj(article[k]))
      .map((k) => [k, article[k] as Record<string, unknown>]);
  return [];
}

/** `auteurs_multi` as a list of names, whatever shape it came in (list, "A, B" string, {id: name}). */
export function normalizeAuthors(v: unknown): string[] | null {
  if (isNullish(v)) return null;
  const names = (xs: unknown[]) =>
    xs.flatMap((x) => (typeof x === 'string' || typeof x === 'number' ? [String(x).trim()] : [])).filter(Boolean);
  if (Array.isArray(v)) return names(v);
  if (typeof v === 'string') return names([v]);
  if (typeof v === 'object') return names(Object.values(v as Record<string, unknown>));
  return [String(v)];
}

export interface CoerceResult {
  value: string | number | null;
  error?: string;
}

/** A (decoded) value → the declared column type. */
export function coerce(v: unknown, type: ColumnType): CoerceResult {
  if (isNullish(v)) return { value: null };
  const bad = (): CoerceResult => ({ value: null, error: `${JSON.stringify(v)} is not ${type}` });
  switch (type) {
    case 'JSON':
      return { value: JSON.stringify(v) };
    case 'STRING':
      return { value: typeof v === 'object' ? JSON.stringify(v) : String(v) };
    case 'INT64': {
      const n = typeof v === 'boolean' ? Number(v) : typeof v === 'object' ? NaN : Number(String(v).trim());
      return Number.isSafeInteger(n) ? { value: n } : bad();
    }
    case 'FLOAT64': {
      const n = typeof v === 'object' ? NaN : Number(String(v).trim().replace(',', '.'));
      return Number.isFinite(n) ? { value: n } : bad();
    }
    case 'DATE': {
      const d = parseApiDate(v);
      return d ? { value: d } : bad();
    }
    case 'BOOL':
    case 'TIMESTAMP':
      return { value: String(v) };
  }
}

export interface ParseOptions {
  /** YYYY-MM-DD: articles modified before it are dropped (articles without a date are kept). */
  minModifiedDate?: string;
  category: string;
  runId: string;
  extractedAt: string;
}

export interface ParseStats {
  products: number;
  articles: number;
  rows: number;
  filteredOut: number;
  /** Values that did not fit their declared type, by column. */
  typeErrors: Record<string, number>;
}

export const emptyStats = (): ParseStats => ({ products: 0, articles: 0, rows: 0, filteredOut: 0, typeErrors: {} });

function fill(row: Row, src: Record<string, unknown>, decls: Decl[], prefix: string, stats: ParseStats): Row {
  const known = new Set(decls.map(([n]) => n));
  for (const [name, type] of decls) {
    const raw = name === 'auteurs_multi' && prefix === '' ? normalizeAuthors(src[name]) : src[name];
    const r = coerce(raw, type);
    if (r.error) stats.typeErrors[prefix + name] = (stats.typeErrors[prefix + name] ?? 0) + 1;
    row[prefix + name] = r.value;
  }
  const extra = Object.fromEntries(Object.entries(src).filter(([k, v]) => !known.has(k) && !isNullish(v)));
  row[`${prefix}extra`] = Object.keys(extra).length ? JSON.stringify(extra) : null;
  return row;
}

/** One raw product → its rows (one per kept article; one row with article_id "#none" if it has none). */
export function parseProduct(raw: Record<string, unknown>, opts: ParseOptions, stats = emptyStats()): Row[] {
  const product = decodeEntities(raw) as Record<string, unknown>;
  const { article, id, ...rest } = product;
  stats.products++;
  const base: Row = { id: String(id) };
  fill(base, rest, PRODUCT_FIELDS, '', stats);
  const meta = { category: opts.category, run_id: opts.runId, extracted_at: opts.extractedAt };
  const articles = explodeArticles(article);
  const rows: Row[] = [];
  if (articles.length === 0) {
    const row: Row = { ...base, article_id: '#none', ...meta };
    for (const [name] of ARTICLE_FIELDS) row[`article_${name}`] = null;
    row.article_extra = null;
    rows.push(row);
  }
  for (const [key, a] of articles) {
    stats.articles++;
    const row: Row = { ...base };
    fill(row, a, ARTICLE_FIELDS, 'article_', stats);
    const modified = row.article_datemodification as string | null;
    if (opts.minModifiedDate && modified && modified < opts.minModifiedDate) {
      stats.filteredOut++;
      continue;
    }
    const gencod = row.article_gencod;
    row.article_id = typeof gencod === 'string' && gencod ? gencod : `#${key}`;
    Object.assign(row, meta);
    rows.push(row);
  }
  stats.rows += rows.length;
  return rows;
}

export type ImageSide = 'recto' | 'verso';
export interface ImageRef {
  product_id: string;
  article_id: string;
  side: ImageSide;
  /** Null when the article lists no URL for this side. */
  url: string | null;
}

/** The recto and verso of one parsed row (from its `article_imagesUrl` JSON). */
export function imagesOf(row: Row): ImageRef[] {
  if (row.article_id === '#none') return [];
  let urls: Record<string, unknown> = {};
  if (typeof row.article_imagesUrl === 'string') {
    try {
      const parsed = JSON.parse(row.article_imagesUrl) as unknown;
      if (parsed && typeof parsed === 'object' && !Array.isArray(parsed)) urls = parsed as Record<string, unknown>;
    } catch {
      urls = {};
    }
  }
  return (['recto', 'verso'] as const).map((side) => ({
    product_id: String(row.id),
    article_id: String(row.article_id),
    side,
    url: typeof urls[side] === 'string' && !isNullish(urls[side]) ? (urls[side] as string) : null,
  }));
}

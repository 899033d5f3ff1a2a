/**
 * The Titelive sandbox's deterministic catalog: products (books and recorded music) with one to three
 * articles each, French titles with accents, several authors, modification dates spread over a window,
 * some articles without images or without a verso, availability codes — all from a seed. `renderItem`
 * turns a product into the API's JSON with the shape variants the real API produces (articles as an
 * object keyed "1", "2"… or as a list; `auteurs_multi` as a list, a string or an object; HTML entities).
 */
import { encodeHTML } from 'entities';
import { prng } from '../../../sandbox/faults';

export type Base = 'paper' | 'music';

export interface CatalogArticle {
  gencod: string;
  /** YYYY-MM-DD */
  modified: string;
  created: string;
  published: string;
  dispo: number;
  price: number;
  pages: number;
  support: { code: string; label: string };
  /** Which cover URLs the article lists. */
  images: { recto: boolean; verso: boolean } | null;
}

export interface CatalogProduct {
  id: number;
  base: Base;
  title: string;
  authors: { id: string; name: string }[];
  summary: string;
  gtl: { code: string; label: string }[];
  articles: CatalogArticle[];
  shape: { articleList: boolean; authors: 'list' | 'string' | 'object'; idAsString: boolean; entities: boolean };
}

export interface CatalogOptions {
  seed?: number;
  books?: number;
  music?: number;
  /** First modification date (YYYY-MM-DD) and the number of days modifications spread over. */
  from?: string;
  days?: number;
}

const WORDS = [
  "L'Été",
  'Mémoires',
  'Œuvres',
  'Château',
  'Forêt',
  'Cœur',
  'Noël',
  'Garçon',
  'Rivière',
  'Lumière',
  'Hôtel',
  'Bibliothèque',
  'Île',
  'Étoile',
  'Fenêtre',
  'Âme',
  'Théâtre',
  'Crépuscule',
  'Pâques',
  'Mère',
];
const JOINERS = ['du', 'de la', 'des', 'sans', 'avec', 'après', 'à', 'sous'];
const FIRST = [
  'Amélie',
  'Hélène',
  'François',
  'Jérôme',
  'Léa',
  'Zoé',
  'Raphaël',
  'Chloé',
  'Anaïs',
  'Noël',
  'Joël',
  'Cécile',
];
const LAST = ['Lefèvre', 'Dupré', 'Bérenger', 'Caron', 'Mézières', 'Gaël', 'Bouchard', 'Thérond', 'Nguyễn', 'Ørsted'];
const PUBLISHERS = ['Gallimard', 'Éditions du Seuil', 'Flammarion', 'Actes Sud', 'Hachette Livre', 'Albin Michel'];
const LABELS = ['Believe', 'Universal Music', 'Warner Music France', 'Because Music', 'Naïve'];
const GTL_BOOK = [
  ['1000000', 'Littérature'],
  ['1050000', 'Récit'],
  ['3020000', 'Bandes dessinées'],
  ['12090000', 'Baccalauréat général (annales)'],
];
const GTL_MUSIC = [
  ['110000', 'Rap / Hip Hop'],
  ['60000', 'Musique classique'],
  ['90000', 'Chanson française'],
];
const DISPO: Record<number, string> = {
  1: 'Disponible',
  2: 'Pas encore paru',
  3: 'Réimpression en cours',
  4: 'Non disponible provisoirement',
  6: 'Arrêt définitif de commercialisation',
};

export function addDays(iso: string, n: number): string {
  return new Date(Date.parse(`${iso}T00:00:00Z`) + n * 86_400_000).toISOString().slice(0, 10);
}
export const toDmy = (iso: string) => `${iso.slice(8, 10)}/${iso.slice(5, 7)}/${iso.slice(0, 4)}`;

function ean13(prefix: string, n: number): string {
  const body = (prefix + String(n).padStart(12 - prefix.length, '0')).slice(0, 12);
  let sum = 0;
  for (let i = 0; i < 12; i++) sum += Number(body[i]) * (i % 2 ? 3 : 1);
  return body + String((10 - (sum % 10)) % 10);
}

export function generateCatalog(opts: CatalogOptions = {}): CatalogProduct[] {
  const rnd = prng(opts.seed ?? 7);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)];
  const from = opts.from ?? '2025-01-01';
  const days = opts.days ?? 60;
  const out: CatalogProduct[] = [];
  const make = (base: Base, n: number, firstId: number) => {
    for (let i = 0; i < n; i++) {
      const id = firstId + i;
      const r = rnd();
      const nArticles = r < 0.62 ? 1 : r < 0.9 ? 2 : 3;
      const nAuthors = base === 'music' ? 1 : rnd() < 0.7 ? 1 : rnd() < 0.8 ? 2 : 3;
      const authors = Array.from({ length: nAuthors }, (_, k) => ({
        id: String(10_000 + ((id * 7 + k * 13) % 90_000)),
        name: `${pick(FIRST)} ${pick(LAST)}`,
      }));
      const title = `${pick(WORDS)} ${pick(JOINERS)} ${pick(WORDS).toLowerCase()}${rnd() < 0.3 ? ` : tome ${1 + Math.floor(rnd() * 9)}` : ''}`;
      const articles: CatalogArticle[] = [];
      for (let a = 0; a < nArticles; a++) {
        const imgR = rnd();
        const created = addDays(from, -30 - Math.floor(rnd() * 900));
        articles.push({
          gencod: ean13(base === 'music' ? '370' : '978', id * 10 + a),
          modified: addDays(from, Math.floor(rnd() * days)),
          created,
          published: addDays(created, Math.floor(rnd() * 60)),
          dispo: pick([1, 1, 1, 1, 1, 2, 3, 4, 6]),
          price: Math.round((5 + rnd() * 40) * 100) / 100,
          pages: base === 'music' ? 0 : 48 + Math.floor(rnd() * 600),
          support:
            base === 'music'
              ? pick([
                  { code: 'CD', label: 'CD' },
                  { code: '38', label: 'CD Digipack' },
                  { code: 'V', label: 'Vinyle' },
                ])
              : pick([
                  { code: 'T', label: 'Grand format' },
                  { code: 'P', label: 'Poche' },
                  { code: 'BL', label: 'Beau livre' },
                ]),
          images: imgR < 0.07 ? null : { recto: true, verso: imgR > 0.12 },
        });
      }
      out.push({
        id,
        base,
        title,
        authors,
        summary: `« ${title} » : un récit où l'on croise ${authors.map((x) => x.name).join(' & ')}, entre rêve et réalité.`,
        gtl: (base === 'music' ? [pick(GTL_MUSIC)] : [pick(GTL_BOOK), pick(GTL_BOOK)]).map(([code, label]) => ({
          code,
          label,
        })),
        articles,
        shape: {
          articleList: rnd() < 0.3,
          authors: pick(['list', 'list', 'string', 'object', 'object'] as const),
          idAsString: rnd() < 0.4,
          entities: rnd() < 0.7,
        },
      });
    }
  };
  make('paper', opts.books ?? 2000, 1_000_001);
  make('music', opts.music ?? 300, 5_000_001);
  return out;
}

/** The latest article modification of a product (the search sorts and filters on article dates). */
export const lastModified = (p: CatalogProduct) => p.articles.reduce((m, a) => (a.modified > m ? a.modified : m), '');

/** The `imagesUrl` of an article as the API lists it (undefined when it lists none). */
export function articleImageUrls(p: CatalogProduct, a: CatalogArticle): Record<string, string> | undefined {
  if (!a.images) return undefined;
  const dir = `https://images.epagine.fr/${a.gencod.slice(-3)}`;
  const music = p.base === 'music';
  const urls: Record<string, string> = {
    recto: music ? `${dir}/${a.gencod}.jpg` : `${dir}/${a.gencod}_1_75.jpg`,
    vign: `${dir}/${a.gencod}_1_v.jpg`,
    moyen: `${dir}/${a.gencod}_1_m.jpg`,
  };
  if (a.images.verso) urls.verso = music ? `${dir}/${a.gencod}_2.jpg` : `${dir}/${a.gencod}_4_75.jpg`;
  // Like the real API, some articles list a shared placeholder as their back cover.
  else if (p.id % 3 === 0) urls.verso = 'https://images.epagine.fr/no_ebook.png';
  return urls;
}

/** A product as the search endpoint returns it. */
export function renderItem(p: CatalogProduct): Record<string, unknown> {
  const enc = (s: string) => (p.shape.entities ? encodeHTML(s) : s);
  const authorsMulti =
    p.shape.authors === 'list'
      ? p.authors.map((a) => a.name)
      : p.shape.authors === 'string'
        ? p.authors.map((a) => a.name).join(', ')
        : Object.fromEntries(p.authors.map((a) => [a.id, a.name]));
  const articles = p.articles.map((a) => {
    const art: Record<string, unknown> = {
      nombre: 0,
      gencod: a.gencod,
      id_catalogue: ['0'],
      editeur: p.base === 'music' ? 'BELIEVE' : PUBLISHERS[p.id % PUBLISHERS.length],
      distributeur: p.base === 'music' ? 'Believe' : 'SODIS',
      code_distributeur: '21',
      prix: a.price,
      prixpays: {
        fr: { value: a.price, devise: '&euro;' },
        ch: { value: Math.round(a.price * 150) / 100, devise: 'CHF' },
      },
      dateparution: toDmy(a.published),
      dateparutionentier: Math.floor(Date.parse(`${a.published}T00:00:00Z`) / 1000),
      datecreation: toDmy(a.created),
      datemodification: toDmy(a.modified),
      dispo: a.dispo,
      dispopays: { fr: a.dispo, be: a.dispo },
      libelledispo: enc(DISPO[a.dispo]),
      resume: enc(p.summary),
      image: a.images ? '1' : '0',
      image_4: a.images?.verso ? '1' : '0',
      detailUrl: `/livre/${a.gencod}/`,
      langue: 'Français',
      langueiso: 'fra',
      codesupport: a.support.code,
      libellesupport: a.support.label,
      pages: p.id % 97 === 0 ? `${a.pages} p.` : String(a.pages), // a dirty value now and then
      longueur: 21.2,
      largeur: 14.6,
      poids: p.id % 5 === 0 ? 'None' : String(150 + (p.id % 400)),
      serie: enc('Non précisée'),
      idserie: '0',
      scolaire: '0',
      code_clil: '3665',
      taux_tva: p.base === 'music' ? '20.00' : '5.50',
      iad: '0',
      typeproduit: p.base === 'music' ? '4' : 0,
      gtl: { first: Object.fromEntries(p.gtl.map((g, i) => [String(i + 1), { code: g.code, libelle: enc(g.label) }])) },
      biographies: [],
      websites: [],
      stock: 0,
      collector: '0',
    };
    const urls = articleImageUrls(p, a);
    if (urls) art.imagesUrl = urls;
    if (p.base === 'music')
      Object.assign(art, { artiste: p.authors[0].name, label: LABELS[p.id % LABELS.length], nb_galettes: '1' });
    return art;
  });
  return {
    id: p.shape.idAsString ? String(p.id) : p.id,
    titre: enc(p.title),
    auteurs: p.authors.map((a) => a.name).join(', '),
    auteurs_multi: authorsMulti,
    auteurs_id: p.authors.map((a) => a.id),
    auteurs_fonctions: [],
    article: p.shape.articleList ? articles : Object.fromEntries(articles.map((a, i) => [String(i + 1), a])),
    biographies: [],
    websites: [],
    typeproduit: p.base === 'music' ? 4 : 0,
  };
}

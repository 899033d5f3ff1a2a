/**
 * The seeded world behind the Dailymotion sandbox's reports: videos (ids like `x8k2l9q`, titles with
 * commas, quotes, accents and emoji, channels, tags), and small pools for every other dimension.
 * Dimensions are grouped into axes: one entity of an axis fixes all of that axis's dimensions (a video
 * fixes its title, channel and media type), so a report's rows are time buckets × axis combinations.
 */
import { prng } from '../../../sandbox/faults';
import { PARTNER_REPORT_DIMENSIONS, type PartnerReportDimension } from '../connector/enums';

export interface CatalogOptions {
  seed?: number;
  /** Videos in the catalog (default 12). */
  videos?: number;
  /** Visitor countries (default 8, at most 16). */
  countries?: number;
}

export interface Axis {
  name: string;
  dims: readonly PartnerReportDimension[];
  /** Each entity gives a value for every dimension of the axis. */
  entities: Partial<Record<PartnerReportDimension, string>>[];
}

const CHANNELS = [
  { slug: 'longhaul-news', id: 'x2ab9c', user: 'longhaul_news' },
  { slug: 'cuisine-et-voyages', id: 'x2cd4e', user: 'cuisine_voyages' },
  { slug: 'sport-direct', id: 'x2ef7g', user: 'sport_direct' },
];
const PREFIXES = ['Vlog', 'Recette', 'Match', 'Reportage', 'Concert', 'Interview', 'Tutoriel', 'Documentaire'];
const SUBJECTS = [
  'à Marseille',
  'crème brûlée',
  'Paris–Roubaix',
  'São Paulo',
  'Zürich',
  'naïve café',
  '東京の夜',
  "l'été indien",
];
const SUFFIXES = ['', ', épisode 2', ' 🎬', ' "inédit"', ' — partie 1', ', 4K 🚀', ' (live)', ', "best of", 2025 ⭐'];
const TAGS = ['sport', 'football', 'cuisine', 'voyage', 'musique', 'actualité', 'ligue 1', 'recette facile', 'été'];
const COUNTRIES = ['FR', 'US', 'IT', 'DE', 'GB', 'ES', 'BR', 'CA', 'JP', 'MA', 'BE', 'CH', 'SN', 'MX', 'IN', 'NL'];

function xid(rand: () => number, len = 6): string {
  let s = 'x';
  for (let i = 0; i < len; i++) s += '0123456789abcdefghijklmnopqrstuvwxyz'[Math.floor(rand() * 36)];
  return s;
}

function videoAxis(rand: () => number, count: number): Axis {
  const entities: Axis['entities'] = [];
  const seen = new Set<string>();
  for (let i = 0; i < count; i++) {
    let id = xid(rand);
    while (seen.has(id)) id = xid(rand);
    seen.add(id);
    const owner = CHANNELS[Math.floor(rand() * CHANNELS.length)];
    const channel = rand() < 0.8 ? owner : CHANNELS[Math.floor(rand() * CHANNELS.length)];
    // The first title always has a comma, quotes, accents and emoji, whatever the seed.
    const title =
      i === 0
        ? 'Résumé du match, "le Classique" ⚽🔥'
        : `${PREFIXES[Math.floor(rand() * PREFIXES.length)]} : ${SUBJECTS[Math.floor(rand() * SUBJECTS.length)]}${SUFFIXES[Math.floor(rand() * SUFFIXES.length)]}`;
    const tags = [...new Set([0, 1, 2].map(() => TAGS[Math.floor(rand() * TAGS.length)]))];
    entities.push({
      VIDEO_ID: id,
      VIDEO_TITLE: title,
      VIDEO_OWNER_CHANNEL_SLUG: owner.slug,
      CHANNEL_SLUG: channel.slug,
      MEDIA_TYPE: rand() < 0.2 ? 'LIVE' : 'VIDEO',
      CONTENT_TYPE: rand() < 0.7 ? 'original' : 'licensed',
      VISIBILITY: ['public', 'public', 'public', 'private', 'unlisted'][Math.floor(rand() * 5)],
      CONTENT_TAG: tags[0],
      CONTENT_TAG_LIST: tags.join(','),
      ACCOUNT_ID: owner.id,
      ACCOUNT_USERNAME: owner.user,
      PARENT_ACCOUNT_ID: 'x1org0',
      PARENT_ACCOUNT_USERNAME: 'longhaul_org',
      OWNER_OR_PARENT_USERNAME: owner.user,
      CLAIMER_CHANNEL: channel.slug,
      CLAIMER_OR_PARENT_USERNAME: channel.user,
    });
  }
  return { name: 'video', dims: Object.keys(entities[0] ?? {}) as PartnerReportDimension[], entities };
}

/** An axis from rows of values, one column per dimension. */
function table(name: string, dims: PartnerReportDimension[], rows: string[][]): Axis {
  return { name, dims, entities: rows.map((r) => Object.fromEntries(dims.map((d, i) => [d, r[i]]))) };
}

export class Catalog {
  readonly axes: Axis[];
  private readonly byDim = new Map<PartnerReportDimension, Axis>();

  constructor(opts: CatalogOptions = {}) {
    const rand = prng((opts.seed ?? 1) * 7919 + 17);
    const countries = COUNTRIES.slice(0, Math.min(COUNTRIES.length, Math.max(1, opts.countries ?? 8)));
    this.axes = [
      videoAxis(rand, Math.max(1, opts.videos ?? 12)),
      table(
        'playlist',
        ['PLAYLIST_ID', 'PLAYLIST_TITLE', 'PLAYLIST_TYPE'],
        [
          [xid(rand), 'Les incontournables, saison 1', 'manual'],
          [xid(rand), 'Cuisine 🍳 "facile"', 'manual'],
          [xid(rand), 'Derniers ajouts', 'auto'],
        ],
      ),
      table('video_position', ['VIDEO_POSITION'], [['1'], ['2'], ['3']]),
      table(
        'player',
        ['PLAYER_ID', 'PLAYER_TITLE', 'PLAYER_SIZE', 'PLAYER_SIZE_BUCKET'],
        [
          [xid(rand, 5), 'Homepage player', '640x360', 'medium'],
          [xid(rand, 5), 'Article, inline', '400x225', 'small'],
          [xid(rand, 5), 'Vidéo plein écran', '1280x720', 'large'],
        ],
      ),
      table(
        'publisher',
        ['PUBLISHER_ID', 'PUBLISHER_CHANNEL', 'PUBLISHER_OR_PARENT_USERNAME'],
        [
          ['x3pub1', 'le-quotidien', 'le_quotidien'],
          ['x3pub2', 'radio-sud', 'radio_sud'],
        ],
      ),
      table(
        'country',
        ['VISITOR_COUNTRY'],
        countries.map((c) => [c]),
      ),
      table('device', ['VISITOR_DEVICE_TYPE'], [['desktop'], ['mobile'], ['tablet'], ['tv']]),
      table(
        'page',
        ['VISITOR_DOMAIN_GROUP', 'VISITOR_SUBDOMAIN', 'VISITOR_PAGE_URL'],
        [
          ['lequotidien.fr', 'www.lequotidien.fr', 'https://www.lequotidien.fr/sport/match-du-jour?id=1,2'],
          ['lequotidien.fr', 'm.lequotidien.fr', 'https://m.lequotidien.fr/'],
          ['radiosud.com', 'www.radiosud.com', 'https://www.radiosud.com/émissions/été'],
        ],
      ),
      table('action', ['ACTION'], [['play'], ['autoplay'], ['replay']]),
      table('ad_format', ['AD_FORMAT'], [['instream'], ['outstream']]),
      table(
        'inventory',
        ['INVENTORY_POSITION', 'INVENTORY_POSITION_INDEX'],
        [
          ['preroll', 'preroll1'],
          ['preroll', 'preroll2'],
          ['midroll', 'others'],
          ['postroll', 'others'],
        ],
      ),
      table(
        'buyer',
        ['BUYER', 'BUYERTYPE'],
        [
          ['Dailymotion Ad Exchange', 'dailymotion'],
          ['Partner direct', 'partner'],
        ],
      ),
      table(
        'ad_error',
        ['AD_ERROR_CODE', 'AD_ERROR_READABLE'],
        [
          ['301', 'Wrapper timeout'],
          ['403', 'No supported media file, "VPAID" only'],
        ],
      ),
      table('noad_reason', ['NOAD_REASON_READABLE'], [['Frequency capping'], ['Not monetizable content']]),
      table('outcome', ['OUTCOME'], [['impression'], ['nofill'], ['error'], ['timeout']]),
      table('ads_txt', ['ADS_TXT_STATUS'], [['valid'], ['missing']]),
      table('monetization_product', ['MONETIZATION_PRODUCT'], [['video'], ['website']]),
      table('monetization_type', ['MONETIZATION_TYPE'], [['CLAIM'], ['VIDEO_MONETIZATION'], ['WEBSITE_MONETIZATION']]),
    ];
    for (const a of this.axes) for (const d of a.dims) this.byDim.set(d, a);
  }

  /** The axis a (non-time) dimension belongs to. */
  axisOf(d: PartnerReportDimension): Axis | undefined {
    return this.byDim.get(d);
  }

  /** Dimensions no axis covers (only the time dimensions should be). */
  uncovered(): PartnerReportDimension[] {
    return PARTNER_REPORT_DIMENSIONS.filter((d) => !this.byDim.has(d));
  }
}

/**
 * Deterministic fake YouTube data for the sandbox: any well-formed 11-character ID has a video (the same
 * one for a given seed) unless it falls in the seeded missing fraction (deleted/private); a search query
 * has a seeded, time-growing list of videos (one every few minutes from an origin), newest first.
 */
import { createHash } from 'node:crypto';
import { prng } from '../../../sandbox/faults';

const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';

export function seedOf(...parts: (string | number)[]): number {
  return createHash('sha256').update(parts.join('\u0000')).digest().readUInt32BE(0);
}

/** Is this ID one of the seeded "deleted or private" videos? */
export function isMissing(seed: number, id: string, rate: number): boolean {
  return (seedOf(seed, 'missing', id) % 1_000_000) / 1_000_000 < rate;
}

const pick = <T>(r: () => number, xs: readonly T[]): T => xs[Math.floor(r() * xs.length)];
const WORDS = ['love', 'night', 'city', 'dream', 'fire', 'blue', 'river', 'gold', 'heart', 'road', 'rain', 'summer'];
const ARTISTS = ['Volo', 'Nova Lane', 'The Quiet Hours', 'Mira K', 'Satellite Club', 'Orage', 'Lou & Lea'];
const TOPICS = [
  'https://en.wikipedia.org/wiki/Music',
  'https://en.wikipedia.org/wiki/Pop_music',
  'https://en.wikipedia.org/wiki/Rock_music',
  'https://en.wikipedia.org/wiki/Hip_hop_music',
  'https://en.wikipedia.org/wiki/Electronic_music',
];

export function fakeId(seed: number, ...parts: (string | number)[]): string {
  const r = prng(seedOf(seed, 'id', ...parts));
  let s = '';
  for (let i = 0; i < 11; i++) s += ALPHABET[Math.floor(r() * 64)];
  return s;
}

function etag(...parts: (string | number)[]): string {
  return createHash('sha1').update(parts.join('|')).digest('base64url').slice(0, 27);
}

/** The real image host of the thumbnails; the sandbox answers with its own URL in its place (ownThumbnails). */
export const YOUTUBE_THUMBNAIL_ORIGIN = 'https://i.ytimg.com';

/** The thumbnail files of a video and their sizes (as the API lists them). */
export const THUMBNAIL_SIZES: Record<string, { width: number; height: number }> = {
  'default.jpg': { width: 120, height: 90 },
  'mqdefault.jpg': { width: 320, height: 180 },
  'hqdefault.jpg': { width: 480, height: 360 },
};

const thumbs = (id: string) => ({
  default: { url: `https://i.ytimg.com/vi/${id}/default.jpg`, width: 120, height: 90 },
  medium: { url: `https://i.ytimg.com/vi/${id}/mqdefault.jpg`, width: 320, height: 180 },
  high: { url: `https://i.ytimg.com/vi/${id}/hqdefault.jpg`, width: 480, height: 360 },
});

interface Core {
  title: string;
  channelId: string;
  channelTitle: string;
  description: string;
  publishedAt: string;
}

function core(seed: number, id: string, publishedAt?: number): Core {
  const r = prng(seedOf(seed, 'video', id));
  const artist = pick(r, ARTISTS);
  const title = `${artist} - ${pick(r, WORDS)} ${pick(r, WORDS)} (official video)`;
  const published = publishedAt ?? Date.UTC(2008, 0, 1) + Math.floor(r() * 17 * 365 * 86_400) * 1000;
  return {
    title,
    channelId: `UC${fakeId(seed, 'channel', artist)}${fakeId(seed, 'channel2', artist)}`.slice(0, 24),
    channelTitle: artist,
    description: `${title}\nRecorded and mixed at Keen Studio.\nTour dates on ${artist.toLowerCase().replace(/\W+/g, '')}.example`,
    publishedAt: new Date(published).toISOString().replace('.000Z', 'Z'),
  };
}

/** The `youtube#video` resource for an ID, with the requested parts. */
export function fakeVideo(seed: number, id: string, parts: Set<string>): Record<string, unknown> {
  const r = prng(seedOf(seed, 'details', id));
  const c = core(seed, id);
  const out: Record<string, unknown> = { kind: 'youtube#video', etag: etag(seed, id, [...parts].join()), id };
  if (parts.has('snippet'))
    out.snippet = {
      publishedAt: c.publishedAt,
      channelId: c.channelId,
      title: c.title,
      description: c.description,
      thumbnails: thumbs(id),
      channelTitle: c.channelTitle,
      tags: [pick(r, WORDS), pick(r, WORDS)],
      categoryId: '10',
      liveBroadcastContent: 'none',
      localized: { title: c.title, description: c.description },
    };
  if (parts.has('contentDetails')) {
    const secs = 90 + Math.floor(r() * 420);
    out.contentDetails = {
      duration: `PT${Math.floor(secs / 60)}M${secs % 60}S`,
      dimension: '2d',
      definition: r() < 0.8 ? 'hd' : 'sd',
      caption: r() < 0.2 ? 'true' : 'false',
      licensedContent: r() < 0.7,
      contentRating: {},
      projection: 'rectangular',
    };
  }
  if (parts.has('status'))
    out.status = {
      uploadStatus: 'processed',
      privacyStatus: r() < 0.95 ? 'public' : 'unlisted',
      license: r() < 0.9 ? 'youtube' : 'creativeCommon',
      embeddable: r() < 0.9,
      publicStatsViewable: true,
      madeForKids: false,
    };
  if (parts.has('statistics')) {
    const views = Math.floor(10 ** (2 + r() * 6));
    out.statistics = {
      viewCount: String(views),
      likeCount: String(Math.floor(views * 0.01 * r())),
      favoriteCount: '0',
      commentCount: String(Math.floor(views * 0.001 * r())),
    };
  }
  if (parts.has('topicDetails')) out.topicDetails = { topicCategories: [TOPICS[0], pick(r, TOPICS.slice(1))] };
  return out;
}

/** A search query's seeded upload schedule: video k is published at origin + k·interval + jitter. */
export class SearchFeed {
  readonly intervalMs: number;
  constructor(
    private readonly seed: number,
    readonly q: string,
    readonly originMs: number,
    /** Spacing of the uploads (default: seeded per query, one video every 5 to 60 minutes). */
    intervalMs?: number,
  ) {
    this.intervalMs = intervalMs ?? (5 + (seedOf(seed, 'feed', q) % 55)) * 60_000;
  }
  publishedAt(k: number): number {
    const jitter = (seedOf(this.seed, 'jitter', this.q, k) % 1000) / 1000;
    return this.originMs + k * this.intervalMs + Math.floor((jitter * this.intervalMs) / 2);
  }
  videoId(k: number): string {
    return fakeId(this.seed, 'search', this.q, k);
  }
  /** Indexes of the videos published in (after, before], newest first, at most `limit` of them. */
  window(afterMs: number, beforeMs: number, limit = 500): number[] {
    const lo = Math.max(0, Math.floor((afterMs - this.originMs) / this.intervalMs) - 1);
    const hi = Math.floor((beforeMs - this.originMs) / this.intervalMs);
    const out: number[] = [];
    for (let k = hi; k >= lo && out.length < limit; k--) {
      const t = this.publishedAt(k);
      if (t > afterMs && t <= beforeMs) out.push(k);
    }
    return out;
  }
  result(k: number): Record<string, unknown> {
    const id = this.videoId(k);
    const c = core(this.seed, id, this.publishedAt(k));
    return {
      kind: 'youtube#searchResult',
      etag: etag(this.seed, 'search', id),
      id: { kind: 'youtube#video', videoId: id },
      snippet: {
        publishedAt: c.publishedAt,
        channelId: c.channelId,
        title: c.title,
        description: c.description.slice(0, 160),
        thumbnails: thumbs(id),
        channelTitle: c.channelTitle,
        liveBroadcastContent: 'none',
        publishTime: c.publishedAt,
      },
    };
  }
}

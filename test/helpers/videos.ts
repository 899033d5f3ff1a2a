/**
 * Test videos: a deterministic set of `VideoUpsert`s with ties on purpose (several videos share a publish
 * time, several share a title) so orderings must break ties by videoId, and the reference order/filter
 * a store's answers are checked against, computed here in plain JavaScript.
 */
import type { StoredVideo, VideoListParams, VideoOrdering, VideoUpsert } from '../../src/sinks/videos-store';

const WORDS = ['cricket', 'india', 'final', 'highlights', 'Cricket', 'World', 'cup', 'news', 'live', 'ODI', 'T20'];

/** `n` videos of `query`, ids prefixed by `prefix`, published from `start` one minute apart in pairs. */
export function makeVideos(n: number, query: string, prefix: string, start = Date.UTC(2024, 0, 1)): VideoUpsert[] {
  const out: VideoUpsert[] = [];
  for (let i = 0; i < n; i++) {
    const w = (k: number) => WORDS[(i * 7 + k * 3) % WORDS.length];
    const id = `${prefix}${String((i * 7919) % 100_000).padStart(5, '0')}${String(i).padStart(4, '0')}`;
    out.push({
      videoId: id,
      query,
      // every 5th title repeats an earlier one (title ties)
      title: i % 5 === 4 ? `${w(0)} ${w(1)} ${i - 1}` : `${w(0)} ${w(1)} ${i}`,
      description: `${w(2)} ${w(3)} video number ${i}${i % 10 === 0 ? ' 100% pure_fun' : ''}`,
      // two videos per minute (publish-time ties)
      publishedAt: new Date(start + Math.floor(i / 2) * 60_000).toISOString().replace('.000Z', 'Z'),
      channelId: `UC${i % 3}`,
      channelTitle: `Channel ${i % 3}`,
      thumbnails: {
        default: `https://i.ytimg.com/vi/${id}/default.jpg`,
        medium: `https://i.ytimg.com/vi/${id}/mqdefault.jpg`,
      },
      raw: { kind: 'youtube#searchResult', id: { kind: 'youtube#video', videoId: id }, n: i },
      seenAt: '2024-06-01T00:00:00Z',
    });
  }
  return out;
}

type Ref = Pick<StoredVideo, 'videoId' | 'title' | 'description' | 'publishedAt'> & { queries: string[] };

const cmp = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

/** The reference answer: rows matching the filters, in the ordering (ties by videoId, same direction). */
export function referenceList(rows: Ref[], p: Omit<VideoListParams, 'pageSize'>): string[] {
  const terms = (p.search ?? '')
    .split(/\s+/)
    .filter(Boolean)
    .map((t) => t.toLowerCase());
  const after = p.publishedAfter ? Date.parse(p.publishedAfter) : -Infinity;
  const before = p.publishedBefore ? Date.parse(p.publishedBefore) : Infinity;
  const ordering: VideoOrdering = p.ordering ?? '-publishedAt';
  const sign = ordering.startsWith('-') ? -1 : 1;
  const key = (r: Ref) => (ordering.endsWith('title') ? r.title : new Date(r.publishedAt).toISOString());
  return rows
    .filter((r) => p.query === undefined || r.queries.includes(p.query))
    .filter((r) => Date.parse(r.publishedAt) >= after && Date.parse(r.publishedAt) <= before)
    .filter((r) => terms.every((t) => r.title.toLowerCase().includes(t) || r.description.toLowerCase().includes(t)))
    .sort((a, b) => sign * (cmp(key(a), key(b)) || cmp(a.videoId, b.videoId)))
    .map((r) => r.videoId);
}

/** The reference rows of a batch of upserts (one query each). */
export const refRows = (videos: VideoUpsert[]): Ref[] => videos.map((v) => ({ ...v, queries: [v.query] }));

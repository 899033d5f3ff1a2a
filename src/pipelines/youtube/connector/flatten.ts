/** One flat warehouse row per video (the raw item stays in the bucket), and ISO 8601 durations in seconds. */
import type { Row, TableSchema } from '../../../sinks/warehouse';
import type { Video } from './schemas';

export const YOUTUBE_VIDEOS_COLUMNS: TableSchema['columns'] = [
  { name: 'video_id', type: 'STRING', nullable: false },
  { name: 'title', type: 'STRING' },
  { name: 'description', type: 'STRING' },
  { name: 'channel_id', type: 'STRING' },
  { name: 'channel_title', type: 'STRING' },
  { name: 'published_at', type: 'TIMESTAMP' },
  { name: 'category_id', type: 'STRING' },
  { name: 'tags', type: 'JSON' },
  { name: 'default_audio_language', type: 'STRING' },
  { name: 'live_broadcast_content', type: 'STRING' },
  { name: 'duration', type: 'STRING' },
  { name: 'duration_seconds', type: 'INT64' },
  { name: 'definition', type: 'STRING' },
  { name: 'caption', type: 'BOOL' },
  { name: 'licensed_content', type: 'BOOL' },
  { name: 'privacy_status', type: 'STRING' },
  { name: 'upload_status', type: 'STRING' },
  { name: 'license', type: 'STRING' },
  { name: 'embeddable', type: 'BOOL' },
  { name: 'made_for_kids', type: 'BOOL' },
  { name: 'view_count', type: 'INT64' },
  { name: 'like_count', type: 'INT64' },
  { name: 'comment_count', type: 'INT64' },
  { name: 'favorite_count', type: 'INT64' },
  { name: 'topic_categories', type: 'JSON' },
  { name: 'source_shard', type: 'STRING' },
];

/** "PT1H4M13S", "P1DT2H" → seconds; undefined when not an ISO 8601 duration. */
export function durationSeconds(iso: string | undefined): number | undefined {
  if (!iso) return undefined;
  const m = /^P(?:(\d+)W)?(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+)S)?)?$/.exec(iso);
  if (!m || iso === 'P' || iso.endsWith('T')) return undefined;
  const [w, d, h, min, s] = m.slice(1).map((x) => Number(x ?? 0));
  return (((w * 7 + d) * 24 + h) * 60 + min) * 60 + s;
}

const int = (s: string | undefined) => (s !== undefined && /^\d+$/.test(s) ? Number(s) : null);
const bool = (s: string | boolean | undefined) => (s === undefined ? null : s === true || s === 'true');

export function flattenVideo(v: Video, shard: string): Row {
  const sn = v.snippet;
  const cd = v.contentDetails;
  const st = v.status;
  const stats = v.statistics;
  return {
    video_id: v.id,
    title: sn?.title ?? null,
    description: sn?.description ?? null,
    channel_id: sn?.channelId ?? null,
    channel_title: sn?.channelTitle ?? null,
    published_at: sn?.publishedAt ?? null,
    category_id: sn?.categoryId ?? null,
    tags: sn?.tags ? JSON.stringify(sn.tags) : null,
    default_audio_language: sn?.defaultAudioLanguage ?? null,
    live_broadcast_content: sn?.liveBroadcastContent ?? null,
    duration: cd?.duration ?? null,
    duration_seconds: durationSeconds(cd?.duration) ?? null,
    definition: cd?.definition ?? null,
    caption: bool(cd?.caption),
    licensed_content: bool(cd?.licensedContent),
    privacy_status: st?.privacyStatus ?? null,
    upload_status: st?.uploadStatus ?? null,
    license: st?.license ?? null,
    embeddable: bool(st?.embeddable),
    made_for_kids: bool(st?.madeForKids),
    view_count: int(stats?.viewCount),
    like_count: int(stats?.likeCount),
    comment_count: int(stats?.commentCount),
    favorite_count: int(stats?.favoriteCount),
    topic_categories: v.topicDetails?.topicCategories ? JSON.stringify(v.topicDetails.topicCategories) : null,
    source_shard: shard,
  };
}

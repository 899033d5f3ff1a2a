/** One flat warehouse row per video (the raw item stays in the bucket), and ISO 8601 durations in seconds. */
import { isoDurationSeconds, jsonRow, type JsonField } from '../../../sinks/json-fields';
import { columns, type Row, type TableSchema } from '../../../sinks/warehouse';
import type { Video } from './schemas';

export const YOUTUBE_VIDEOS_COLUMNS: TableSchema['columns'] = columns({
  video_id: 'STRING!',
  title: 'STRING',
  description: 'STRING',
  channel_id: 'STRING',
  channel_title: 'STRING',
  published_at: 'TIMESTAMP',
  category_id: 'STRING',
  tags: 'JSON',
  default_audio_language: 'STRING',
  live_broadcast_content: 'STRING',
  duration: 'STRING',
  duration_seconds: 'INT64',
  definition: 'STRING',
  caption: 'BOOL',
  licensed_content: 'BOOL',
  privacy_status: 'STRING',
  upload_status: 'STRING',
  license: 'STRING',
  embeddable: 'BOOL',
  made_for_kids: 'BOOL',
  view_count: 'INT64',
  like_count: 'INT64',
  comment_count: 'INT64',
  favorite_count: 'INT64',
  topic_categories: 'JSON',
  source_shard: 'STRING',
});

/** "PT1H4M13S", "P1DT2H" → seconds; undefined when not an ISO 8601 duration. */
export const durationSeconds = isoDurationSeconds;

/**
 * Where each column is in a `youtube#video` resource, and how it is read (src/sinks/json-fields.ts): the one
 * description of a flat row, read in JavaScript (`flattenVideo`) or by the warehouse from the shards
 * (`Warehouse.loadJson`). `source_shard` is the shard's key, given per file.
 */
export const VIDEO_FIELDS: JsonField[] = [
  { column: 'video_id', path: ['id'] },
  { column: 'title', path: ['snippet', 'title'] },
  { column: 'description', path: ['snippet', 'description'] },
  { column: 'channel_id', path: ['snippet', 'channelId'] },
  { column: 'channel_title', path: ['snippet', 'channelTitle'] },
  { column: 'published_at', path: ['snippet', 'publishedAt'] },
  { column: 'category_id', path: ['snippet', 'categoryId'] },
  { column: 'tags', path: ['snippet', 'tags'], as: 'json' },
  { column: 'default_audio_language', path: ['snippet', 'defaultAudioLanguage'] },
  { column: 'live_broadcast_content', path: ['snippet', 'liveBroadcastContent'] },
  { column: 'duration', path: ['contentDetails', 'duration'] },
  { column: 'duration_seconds', path: ['contentDetails', 'duration'], as: 'isoDuration' },
  { column: 'definition', path: ['contentDetails', 'definition'] },
  { column: 'caption', path: ['contentDetails', 'caption'], as: 'flag' },
  { column: 'licensed_content', path: ['contentDetails', 'licensedContent'], as: 'flag' },
  { column: 'privacy_status', path: ['status', 'privacyStatus'] },
  { column: 'upload_status', path: ['status', 'uploadStatus'] },
  { column: 'license', path: ['status', 'license'] },
  { column: 'embeddable', path: ['status', 'embeddable'], as: 'flag' },
  { column: 'made_for_kids', path: ['status', 'madeForKids'], as: 'flag' },
  { column: 'view_count', path: ['statistics', 'viewCount'], as: 'digits' },
  { column: 'like_count', path: ['statistics', 'likeCount'], as: 'digits' },
  { column: 'comment_count', path: ['statistics', 'commentCount'], as: 'digits' },
  { column: 'favorite_count', path: ['statistics', 'favoriteCount'], as: 'digits' },
  { column: 'topic_categories', path: ['topicDetails', 'topicCategories'], as: 'json' },
];

export function flattenVideo(v: Video, shard: string): Row {
  return jsonRow(v, VIDEO_FIELDS, { source_shard: shard });
}

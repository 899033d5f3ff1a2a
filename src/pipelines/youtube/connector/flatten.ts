/** One flat warehouse row per video (the raw item stays in the bucket), and ISO 8601 durations in seconds. */
import { isoDurationSeconds, jsonRow, type JsonField } from '../../../sinks/json-fields';
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

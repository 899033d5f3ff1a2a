/**
 * zod shapes of the YouTube Data API answers longhaul reads: videos.list and search.list. Items keep
 * every field the API sends (loose objects): the raw item is what lands in the bucket.
 */
import { z } from 'zod';

export { VIDEO_PARTS, VIDEO_ID, type VideoPart } from './enums';

export const videoSchema = z.looseObject({
  kind: z.literal('youtube#video'),
  etag: z.string(),
  id: z.string(),
  snippet: z
    .looseObject({
      publishedAt: z.string(),
      channelId: z.string(),
      title: z.string(),
      description: z.string().optional(),
      channelTitle: z.string().optional(),
      tags: z.array(z.string()).optional(),
      categoryId: z.string().optional(),
      liveBroadcastContent: z.string().optional(),
      defaultAudioLanguage: z.string().optional(),
    })
    .optional(),
  contentDetails: z
    .looseObject({
      duration: z.string().optional(),
      dimension: z.string().optional(),
      definition: z.string().optional(),
      caption: z.string().optional(),
      licensedContent: z.boolean().optional(),
      projection: z.string().optional(),
    })
    .optional(),
  status: z
    .looseObject({
      uploadStatus: z.string().optional(),
      privacyStatus: z.string().optional(),
      license: z.string().optional(),
      embeddable: z.boolean().optional(),
      publicStatsViewable: z.boolean().optional(),
      madeForKids: z.boolean().optional(),
    })
    .optional(),
  statistics: z
    .looseObject({
      viewCount: z.string().optional(),
      likeCount: z.string().optional(),
      favoriteCount: z.string().optional(),
      commentCount: z.string().optional(),
    })
    .optional(),
  topicDetails: z.looseObject({ topicCategories: z.array(z.string()).optional() }).optional(),
});
export type Video = z.infer<typeof videoSchema>;

export const videoListSchema = z.looseObject({
  kind: z.literal('youtube#videoListResponse'),
  etag: z.string().optional(),
  pageInfo: z.object({ totalResults: z.number(), resultsPerPage: z.number() }).optional(),
  items: z.array(videoSchema).default([]),
});

export const searchResultSchema = z.looseObject({
  kind: z.literal('youtube#searchResult'),
  etag: z.string().optional(),
  id: z.looseObject({ kind: z.string(), videoId: z.string().optional() }),
  snippet: z.looseObject({ publishedAt: z.string(), channelId: z.string(), title: z.string() }).optional(),
});
export type SearchResult = z.infer<typeof searchResultSchema>;

export const searchListSchema = z.looseObject({
  kind: z.literal('youtube#searchListResponse'),
  nextPageToken: z.string().optional(),
  prevPageToken: z.string().optional(),
  regionCode: z.string().optional(),
  pageInfo: z.object({ totalResults: z.number(), resultsPerPage: z.number() }).optional(),
  items: z.array(searchResultSchema).default([]),
});

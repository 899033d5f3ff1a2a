/** YouTube enums shared by input validation (workflows), the connector and the sandbox: pure constants. */
export const VIDEO_PARTS = ['snippet', 'contentDetails', 'status', 'statistics', 'topicDetails'] as const;
export type VideoPart = (typeof VIDEO_PARTS)[number];

/** A well-formed video ID: 11 characters of the URL-safe base64 alphabet. */
export const VIDEO_ID = /^[A-Za-z0-9_-]{11}$/;

/** IDs per videos.list call (the API answers 400 invalidFilters beyond). */
export const MAX_IDS_PER_CALL = 50;

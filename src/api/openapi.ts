/** The OpenAPI 3.1 description of the videos API, served at `/openapi.json`. */
import { VIDEO_ORDERINGS } from '../sinks/videos-store';
import { DEFAULT_PAGE_SIZE, MAX_PAGE, MAX_PAGE_SIZE, MAX_TEXT } from './params';

const error = {
  description: 'The parameter named in the body is unknown, repeated or malformed',
  content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } },
};

const isoTime = (what: string) => ({
  type: 'string',
  description: `${what} ISO-8601 date (\`2024-05-01\`) or date-time with a zone (\`2024-05-01T10:00:00Z\`).`,
  examples: ['2024-05-01', '2024-05-01T10:00:00Z'],
});

export function openApiDocument(serverUrl?: string): Record<string, unknown> {
  const doc = videosDocument(serverUrl);
  type Operation = { parameters: { name: string }[]; operationId?: string; [k: string]: unknown };
  const paths = doc.paths as Record<string, { get: Operation }>;
  // The replaced Django REST Framework service's routes (docs/videos-api.md, "Coming from the fampay service").
  paths['/api/youtubeVideos/'] = {
    get: {
      operationId: 'listVideosDrf',
      summary: 'Videos matching the filters, one page, as the replaced DRF service answered (page numbers only)',
      parameters: paths['/api/videos']!.get.parameters.filter((x) => x.name !== 'cursor'),
      responses: {
        '200': {
          description: 'One page',
          content: { 'application/json': { schema: { $ref: '#/components/schemas/DrfVideoPage' } } },
        },
        '400': error,
      },
    },
  };
  paths['/api/youtubeVideos/{id}/'] = { get: { ...paths['/api/videos/{id}']!.get, operationId: 'getVideoDrf' } };
  (doc.components as { schemas: Record<string, unknown> }).schemas.DrfVideoPage = {
    type: 'object',
    required: ['count', 'next', 'previous', 'results'],
    properties: {
      count: { type: 'integer', description: 'Videos matching the filters (all pages)' },
      next: { type: ['string', 'null'], format: 'uri' },
      previous: { type: ['string', 'null'], format: 'uri' },
      results: { type: 'array', items: { $ref: '#/components/schemas/Video' } },
    },
  };
  return doc;
}

function videosDocument(serverUrl?: string): Record<string, unknown> {
  return {
    openapi: '3.1.0',
    info: {
      title: 'longhaul videos API',
      version: '1.0.0',
      description:
        'Videos collected by the youtube-watch pipeline (docs/videos-api.md). Listing pages by number (`page`) or by keyset cursor (`cursor`, from a `next`/`prev` link).',
    },
    ...(serverUrl ? { servers: [{ url: serverUrl }] } : {}),
    paths: {
      '/api/videos': {
        get: {
          operationId: 'listVideos',
          summary: 'Videos matching the filters, one page',
          parameters: [
            {
              name: 'page',
              in: 'query',
              description:
                'Page number (offset paging); the `next`/`prev` links then page by number. Not with `cursor`.',
              schema: { type: 'integer', minimum: 1, maximum: MAX_PAGE },
            },
            {
              name: 'pageSize',
              in: 'query',
              schema: { type: 'integer', minimum: 1, maximum: MAX_PAGE_SIZE, default: DEFAULT_PAGE_SIZE },
            },
            {
              name: 'cursor',
              in: 'query',
              description:
                'Opaque keyset cursor from a `next`/`prev` link; valid only with the ordering and filters it was made under. Without `page` and `cursor`, the first page is returned with cursor links.',
              schema: { type: 'string' },
            },
            {
              name: 'search',
              in: 'query',
              description:
                'Words that must all appear in the title or the description (case-insensitive substring match).',
              schema: { type: 'string', maxLength: MAX_TEXT },
            },
            {
              name: 'ordering',
              in: 'query',
              description: 'Sort field, `-` for descending; ties are broken by video id in the same direction.',
              schema: { type: 'string', enum: [...VIDEO_ORDERINGS], default: '-publishedAt' },
            },
            {
              name: 'publishedAfter',
              in: 'query',
              description: 'Inclusive lower bound of the publish time.',
              schema: isoTime('Start of the day for an'),
            },
            {
              name: 'publishedBefore',
              in: 'query',
              description: 'Inclusive upper bound of the publish time; not earlier than `publishedAfter`.',
              schema: isoTime('End of the day (23:59:59.999Z) for an'),
            },
            {
              name: 'query',
              in: 'query',
              description: 'Only videos found by this watched search query (exact match).',
              schema: { type: 'string', maxLength: MAX_TEXT },
            },
          ],
          responses: {
            '200': {
              description: 'One page',
              content: { 'application/json': { schema: { $ref: '#/components/schemas/VideoPage' } } },
            },
            '400': error,
          },
        },
      },
      '/api/videos/{id}': {
        get: {
          operationId: 'getVideo',
          summary: 'One video, with the raw search result',
          parameters: [
            {
              name: 'id',
              in: 'path',
              required: true,
              schema: { type: 'string', pattern: '^[A-Za-z0-9_-]{1,64}$' },
            },
          ],
          responses: {
            '200': {
              description: 'The video',
              content: { 'application/json': { schema: { $ref: '#/components/schemas/VideoDetail' } } },
            },
            '400': error,
            '404': {
              description: 'No such video',
              content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } },
            },
          },
        },
      },
      '/healthz': {
        get: {
          operationId: 'health',
          summary: 'The server is up and its store answers',
          responses: {
            '200': {
              description: 'Healthy',
              content: {
                'application/json': {
                  schema: { type: 'object', properties: { status: { const: 'ok' } }, required: ['status'] },
                },
              },
            },
            '503': {
              description: 'The store does not answer',
              content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } },
            },
          },
        },
      },
    },
    components: {
      schemas: {
        Video: {
          type: 'object',
          required: [
            'videoId',
            'title',
            'description',
            'publishedAt',
            'channelId',
            'channelTitle',
            'thumbnails',
            'queries',
            'firstSeenAt',
            'updatedAt',
          ],
          properties: {
            videoId: { type: 'string' },
            title: { type: 'string' },
            description: { type: 'string' },
            publishedAt: { type: 'string', format: 'date-time' },
            channelId: { type: 'string' },
            channelTitle: { type: 'string' },
            thumbnails: {
              type: 'object',
              additionalProperties: { type: 'string', format: 'uri' },
              description: 'Thumbnail URLs by size (default, medium, high, …)',
            },
            queries: { type: 'array', items: { type: 'string' }, description: 'Watched queries that found it' },
            firstSeenAt: { type: 'string', format: 'date-time' },
            updatedAt: { type: 'string', format: 'date-time' },
          },
        },
        VideoDetail: {
          allOf: [
            { $ref: '#/components/schemas/Video' },
            {
              type: 'object',
              required: ['raw'],
              properties: { raw: { description: 'The youtube#searchResult item as last received' } },
            },
          ],
        },
        VideoPage: {
          type: 'object',
          required: ['items', 'total', 'pageSize', 'next', 'prev'],
          properties: {
            items: { type: 'array', items: { $ref: '#/components/schemas/Video' } },
            total: { type: 'integer', description: 'Videos matching the filters (all pages)' },
            page: { type: 'integer', description: 'Present when paging by number (and on the first page)' },
            pageSize: { type: 'integer' },
            next: { type: ['string', 'null'], format: 'uri' },
            prev: { type: ['string', 'null'], format: 'uri' },
          },
        },
        Error: {
          type: 'object',
          required: ['error'],
          properties: {
            error: {
              type: 'object',
              required: ['message'],
              properties: {
                parameter: { type: 'string', description: 'The offending parameter' },
                message: { type: 'string' },
              },
            },
          },
        },
      },
    },
  };
}

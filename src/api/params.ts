/**
 * The query string of `GET /api/videos`, checked strictly: an unknown, repeated or malformed parameter is
 * a ParamError naming it (the server answers 400 `{ error: { parameter, message } }`).
 */
import {
  decodeVideoCursor,
  VIDEO_ORDERINGS,
  VideosStoreInputError,
  type VideoListParams,
  type VideoOrdering,
} from '../sinks/videos-store';

export class ParamError extends Error {
  override name = 'ParamError';
  constructor(
    readonly parameter: string,
    message: string,
  ) {
    super(message);
  }
}

export const LIST_PARAMETERS = [
  'page',
  'pageSize',
  'cursor',
  'search',
  'ordering',
  'publishedAfter',
  'publishedBefore',
  'query',
] as const;
export type ListParameter = (typeof LIST_PARAMETERS)[number];

export const MAX_PAGE_SIZE = 100;
export const DEFAULT_PAGE_SIZE = 20;
export const MAX_PAGE = 10_000_000;
export const MAX_TEXT = 200;

/** A listing request: the store's parameters, and whether the client paged by number (`page`). */
export interface ListRequest extends VideoListParams {
  ordering: VideoOrdering;
  /** `page` links (page given) or cursor links (no page: first page, or a cursor). */
  paging: 'page' | 'cursor';
}

const DATE = /^(\d{4})-(\d{2})-(\d{2})$/;
const DATE_TIME = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?(Z|[+-]\d{2}:\d{2})$/;

/**
 * An ISO-8601 date (`2024-05-01`) or date-time with a zone (`2024-05-01T10:00:00Z`, `…+02:00`), as an
 * ISO UTC string. A date alone is the start of that UTC day, or its last millisecond with `endOfDay`.
 */
export function parseIsoTime(parameter: string, value: string, endOfDay = false): string {
  const bad = (why: string) => new ParamError(parameter, `${why}; expected e.g. 2024-05-01 or 2024-05-01T10:00:00Z`);
  const d = DATE.exec(value);
  const dt = d ? undefined : DATE_TIME.exec(value);
  const m = d ?? dt;
  if (!m) throw bad(`not an ISO-8601 date or date-time with a time zone: ${JSON.stringify(value)}`);
  const [y, mo, da] = [Number(m[1]), Number(m[2]), Number(m[3])];
  const day = new Date(Date.UTC(y, mo - 1, da));
  if (day.getUTCFullYear() !== y || day.getUTCMonth() !== mo - 1 || day.getUTCDate() !== da)
    throw bad(`no such date: ${value}`);
  if (d) return new Date(day.getTime() + (endOfDay ? 86_400_000 - 1 : 0)).toISOString();
  const [h, mi, s] = [Number(m[4]), Number(m[5]), Number(m[6] ?? 0)];
  if (h > 23 || mi > 59 || s > 59) throw bad(`no such time: ${value}`);
  const zone = m[8];
  if (zone !== 'Z' && (Number(zone.slice(1, 3)) > 23 || Number(zone.slice(4, 6)) > 59))
    throw bad(`no such time zone: ${zone}`);
  const t = Date.parse(value);
  if (Number.isNaN(t)) throw bad(`not a time: ${value}`);
  return new Date(t).toISOString();
}

function positiveInt(parameter: string, value: string, max: number): number {
  if (!/^\d{1,10}$/.test(value)) throw new ParamError(parameter, `must be a whole number from 1 to ${max}`);
  const n = Number(value);
  if (n < 1 || n > max) throw new ParamError(parameter, `must be a whole number from 1 to ${max}`);
  return n;
}

function text(parameter: string, value: string): string | undefined {
  const v = value.trim();
  if (v.length > MAX_TEXT) throw new ParamError(parameter, `at most ${MAX_TEXT} characters`);
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u0008\u000b\u000c\u000e-\u001f]/.test(v)) throw new ParamError(parameter, 'control characters');
  return v === '' ? undefined : v;
}

/** Parses and checks the query string of `GET /api/videos`. */
export function parseListParams(qs: URLSearchParams): ListRequest {
  const seen = new Map<string, string>();
  for (const [k, v] of qs) {
    if (!(LIST_PARAMETERS as readonly string[]).includes(k))
      throw new ParamError(k, `unknown parameter; known: ${LIST_PARAMETERS.join(', ')}`);
    if (seen.has(k)) throw new ParamError(k, 'given more than once');
    seen.set(k, v);
  }
  const get = (k: ListParameter) => seen.get(k);
  const out: ListRequest = { pageSize: DEFAULT_PAGE_SIZE, ordering: '-publishedAt', paging: 'cursor' };
  const pageSize = get('pageSize');
  if (pageSize !== undefined) out.pageSize = positiveInt('pageSize', pageSize, MAX_PAGE_SIZE);
  const page = get('page');
  if (page !== undefined) {
    out.page = positiveInt('page', page, MAX_PAGE);
    out.paging = 'page';
  }
  const ordering = get('ordering');
  if (ordering !== undefined) {
    if (!VIDEO_ORDERINGS.includes(ordering as VideoOrdering))
      throw new ParamError('ordering', `must be one of ${VIDEO_ORDERINGS.join(', ')}`);
    out.ordering = ordering as VideoOrdering;
  }
  for (const k of ['search', 'query'] as const) {
    const v = get(k);
    const t = v === undefined ? undefined : text(k, v);
    if (t !== undefined) out[k] = t;
  }
  const after = get('publishedAfter');
  if (after !== undefined) out.publishedAfter = parseIsoTime('publishedAfter', after);
  const before = get('publishedBefore');
  if (before !== undefined) out.publishedBefore = parseIsoTime('publishedBefore', before, true);
  if (out.publishedAfter && out.publishedBefore && out.publishedAfter > out.publishedBefore)
    throw new ParamError('publishedBefore', 'must not be earlier than publishedAfter');
  const cursor = get('cursor');
  if (cursor !== undefined) {
    if (page !== undefined) throw new ParamError('cursor', 'give either page or cursor, not both');
    try {
      const c = decodeVideoCursor(cursor);
      if (c.ordering !== out.ordering)
        throw new ParamError('cursor', `the cursor was made for ordering ${c.ordering}; pass ordering=${c.ordering}`);
    } catch (e) {
      if (e instanceof VideosStoreInputError) throw new ParamError('cursor', e.message);
      throw e;
    }
    out.cursor = cursor;
  }
  return out;
}

/** Video ids as YouTube makes them (11 characters of [A-Za-z0-9_-]); longer ones are allowed up to 64. */
export function parseVideoId(id: string): string {
  if (!/^[A-Za-z0-9_-]{1,64}$/.test(id))
    throw new ParamError('id', 'a video id is 1 to 64 characters of A-Z, a-z, 0-9, _ and -');
  return id;
}

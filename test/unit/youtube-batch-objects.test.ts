/**
 * youtube-enrich's batch objects: the NDJSON form (a header line with the missing IDs, then a line per
 * video) gives the shard its lines as they are; the older JSON form, left by runs started before it, gives
 * the same missing IDs and the same lines.
 */
import { describe, expect, it } from 'vitest';
import { batchText, readBatchText } from '../../src/pipelines/youtube/activities/fetch';
import type { Video } from '../../src/pipelines/youtube/connector/schemas';

const items = [
  { kind: 'youtube#video', id: 'aaaaaaaaaaa', snippet: { title: 'line\nbreak "quoted" é', tags: ['a', 'b'] } },
  { kind: 'youtube#video', id: 'bbbbbbbbbbb', statistics: { viewCount: '12' } },
] as unknown as Video[];

describe('youtube-enrich batch objects', () => {
  it('keep one line per video (newlines inside values escaped) after a header of missing IDs', () => {
    const text = batchText(items, ['ccccccccccc']);
    const lines = text.split('\n');
    expect(lines).toHaveLength(4); // header, two videos, the final newline
    expect(JSON.parse(lines[0]!)).toEqual({ missing: ['ccccccccccc'] });
    expect(lines.slice(1, 3).map((l) => JSON.parse(l) as unknown)).toEqual(items);
    expect(readBatchText(text)).toEqual({ missing: ['ccccccccccc'], lines: lines.slice(1).join('\n') });
  });

  it('read the older form to the same missing IDs and lines', () => {
    const legacy = JSON.stringify({ items, missing: ['ccccccccccc'] });
    expect(readBatchText(legacy, true)).toEqual(readBatchText(batchText(items, ['ccccccccccc'])));
  });

  it('an answer with no video is a header alone', () => {
    expect(readBatchText(batchText([], ['x1', 'x2']))).toEqual({ missing: ['x1', 'x2'], lines: '' });
  });
});

/**
 * The 64-bit stable hash of YouTube work areas and workflow IDs (issue #13): FNV-1a 64 (checked against a
 * BigInt reference and the published vectors), and a youtube-enrich work area that changes with the parts.
 */
import { describe, expect, it } from 'vitest';
import { fnv1a64, identityHash } from '../../src/shared/identity-hash';
import {
  legacyWorkKeyOf,
  workKeyOf,
  youtubeEnrichInput,
  youtubeEnrichPipeline,
} from '../../src/pipelines/youtube/enrich';
import { watchWorkflowId } from '../../src/pipelines/youtube/watch-shared';

const reference = (t: string): string => {
  let h = 0xcbf29ce484222325n;
  for (let i = 0; i < t.length; i++) h = ((h ^ BigInt(t.charCodeAt(i))) * 0x100000001b3n) & 0xffffffffffffffffn;
  return h.toString(16).padStart(16, '0');
};

describe('64-bit stable hash', () => {
  it('is FNV-1a 64', () => {
    expect(fnv1a64('')).toBe('cbf29ce484222325');
    expect(fnv1a64('a')).toBe('af63dc4c8601ec8c');
    expect(fnv1a64('foobar')).toBe('85944171f73967e8');
    for (const t of ['{"csv":"x.csv"}', 'é€😀'.repeat(40), 'x'.repeat(5000)]) expect(fnv1a64(t)).toBe(reference(t));
  });

  it('hashes objects whatever their key order', () => {
    expect(identityHash({ a: 1, b: [2, { d: 3, c: 4 }] })).toBe(identityHash({ b: [2, { c: 4, d: 3 }], a: 1 }));
    expect(identityHash({ a: 1 })).toMatch(/^[0-9a-f]{16}$/);
  });
});

describe('youtube-enrich work identity', () => {
  const parse = (i: Record<string, unknown>) => youtubeEnrichInput.parse(i);
  const all = parse({ ids: ['dQw4w9WgXcQ'] });
  const snippet = parse({ ids: ['dQw4w9WgXcQ'], parts: ['snippet'] });

  it('has the parts in its work area and its workflow ID, as a set, with 64 bits', () => {
    expect(workKeyOf(all)).not.toBe(workKeyOf(snippet));
    expect(workKeyOf(all)).toMatch(/^youtube\/videos\/_work\/[0-9a-f]{16}$/);
    expect(workKeyOf(parse({ ids: ['dQw4w9WgXcQ'], parts: ['statistics', 'snippet'] }))).toBe(
      workKeyOf(parse({ ids: ['dQw4w9WgXcQ'], parts: ['snippet', 'statistics', 'snippet'] })),
    );
    expect(youtubeEnrichPipeline.workflowId(all)).toMatch(/^youtube-enrich-[0-9a-f]{16}$/);
    expect(youtubeEnrichPipeline.workflowId(all)).not.toBe(youtubeEnrichPipeline.workflowId(snippet));
    // Runs begun before keep their (32-bit, parts-blind) area.
    expect(legacyWorkKeyOf(all)).toBe(legacyWorkKeyOf(snippet));
    expect(legacyWorkKeyOf(all)).toMatch(/^youtube\/videos\/_work\/[0-9a-f]{8}$/);
  });

  it('--refresh does not change the work (it clears the same area)', () => {
    const refresh = parse({ ids: ['dQw4w9WgXcQ'], refresh: true });
    expect(workKeyOf(refresh)).toBe(workKeyOf(all));
    expect(youtubeEnrichPipeline.workflowId(refresh)).toBe(youtubeEnrichPipeline.workflowId(all));
  });

  it('youtube-watch IDs carry a 64-bit hash of the query', () => {
    expect(watchWorkflowId('Cricket highlights')).toMatch(/^youtube-watch-cricket-highlights-[0-9a-f]{16}$/);
  });
});

/** The titelive pipeline's input: CLI flags → validated input, the rules between fields, workflow IDs. */
import { describe, expect, it } from 'vitest';
import { buildInput } from '../../src/cli/run';
import { PIPELINES } from '../../src/pipelines';
import { titeliveInput } from '../../src/pipelines/titelive/definition';

const pipeline = PIPELINES.titelive;

describe('titelive pipeline input', () => {
  it('reads the CLI flags with their defaults', () => {
    const input = buildInput(pipeline, {}, ['--category', 'LIVRE', '--min-modified-date', '2025-01-01']);
    expect(input).toEqual({
      category: 'LIVRE',
      minModifiedDate: '2025-01-01',
      incremental: false,
      resultsPerPage: 120,
      images: true,
      imagePrefix: 'titelive/images',
      imageBatch: 500,
      imageRetryDelay: 60_000,
    });
    expect(buildInput(pipeline, {}, ['--category', 'MUSIQUE_ENREGISTREE', '--incremental'])).toMatchObject({
      category: 'MUSIQUE_ENREGISTREE',
      incremental: true,
    });
  });

  it('refuses a missing start, bad dates, unknown categories, inverted ranges', () => {
    expect(() => buildInput(pipeline, {}, ['--category', 'LIVRE'])).toThrow(
      /--min-modified-date: give minModifiedDate, or incremental: true/,
    );
    expect(() => buildInput(pipeline, {}, ['--category', 'LIVRE', '--min-modified-date', '01/02/2025'])).toThrow(
      /--min-modified-date: expected a date as YYYY-MM-DD/,
    );
    expect(() => buildInput(pipeline, {}, ['--category', 'LIVRE', '--min-modified-date', '2025-02-30'])).toThrow(
      /not a real calendar date/,
    );
    expect(() => buildInput(pipeline, {}, ['--category', 'DVD', '--incremental'])).toThrow(/category/);
    expect(
      titeliveInput.safeParse({ category: 'LIVRE', minModifiedDate: '2025-03-01', maxModifiedDate: '2025-02-01' })
        .success,
    ).toBe(false);
  });

  it('gives incremental runs of a category one workflow ID, dated runs one per range', () => {
    const id = (x: object) => pipeline.workflowId(titeliveInput.parse({ category: 'LIVRE', ...x }));
    expect(id({ incremental: true })).toBe('titelive-LIVRE-incremental');
    expect(id({ minModifiedDate: '2025-01-01' })).toBe(id({ minModifiedDate: '2025-01-01' }));
    expect(id({ minModifiedDate: '2025-01-01' })).not.toBe(id({ minModifiedDate: '2025-01-02' }));
  });
});

/** The titelive pipeline's input: CLI flags → validated input, the rules between fields, workflow IDs. */
import { describe, expect, it } from 'vitest';
import { buildInput } from '../../src/cli/run';
import { PIPELINES } from '../../src/pipelines';
import { titeliveInput } from '../../src/pipelines/titelive/definition';
import { identityHash } from '../../src/pipelines/types';

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

  it('reads the hand-off files and parse only, and refuses what cannot go together', () => {
    const base = ['--category', 'LIVRE', '--min-modified-date', '2025-01-01'];
    expect(
      buildInput(pipeline, {}, [
        ...base,
        '--raw-output',
        'handoff/{category}/{day}/raw.parquet',
        '--parsed-output',
        'handoff/parsed-{runId}.parquet',
        '--images-output',
        'handoff/images.parquet',
      ]),
    ).toMatchObject({
      rawOutput: 'handoff/{category}/{day}/raw.parquet',
      parsedOutput: 'handoff/parsed-{runId}.parquet',
      imagesOutput: 'handoff/images.parquet',
    });
    expect(buildInput(pipeline, {}, ['--category', 'LIVRE', '--parse-from', 's3://b/raw.parquet'])).toMatchObject({
      parseFrom: 's3://b/raw.parquet',
    });
    const bad: [string[], RegExp][] = [
      [[...base, '--raw-output', 'x/{date}.parquet'], /--raw-output: unknown placeholder/],
      [[...base, '--raw-output', 'x/{runId'], /--raw-output: unknown placeholder/],
      [[...base, '--parsed-output', '../x.parquet'], /--parsed-output: .*no "\." or "\.\." part/],
      [[...base, '--parsed-output', '/abs.parquet'], /--parsed-output: a bucket key/],
      [[...base, '--raw-output', 'a.parquet', '--images-output', 'a.parquet'], /--images-output: .*different keys/],
      [
        [...base, '--raw-output', 'titelive/parquet/{category}/{runId}/products.parquet'],
        /--images-output: .*different keys/,
      ],
      [[...base, '--images', 'false', '--images-output', 'i.parquet'], /--images-output: needs images: true/],
      [['--category', 'LIVRE', '--parse-from', 'r.parquet', '--incremental'], /--incremental: not with parseFrom/],
      [
        ['--category', 'LIVRE', '--parse-from', 'r.parquet', '--raw-output', 'x.parquet'],
        /--raw-output: not with parseFrom/,
      ],
      [
        ['--category', 'LIVRE', '--parse-from', 'r.parquet', '--max-modified-date', '2025-02-01'],
        /--max-modified-date: not with parseFrom/,
      ],
    ];
    for (const [args, message] of bad) expect(() => buildInput(pipeline, {}, args), args.join(' ')).toThrow(message);
  });

  it('keeps the workflow IDs of runs without parseFrom, and gives parse-only runs their own', () => {
    const id = (x: object) => pipeline.workflowId(titeliveInput.parse({ category: 'LIVRE', ...x }));
    // The ID of a dated run from before parseFrom existed (it must not change under a deployed user).
    expect(id({ minModifiedDate: '2025-01-01' })).toBe(
      `titelive-LIVRE-${identityHash({ min: '2025-01-01', inc: false })}`,
    );
    expect(id({ parseFrom: 'a.parquet' })).not.toBe(id({ parseFrom: 'b.parquet' }));
  });
});

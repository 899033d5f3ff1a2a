/**
 * youtube-enrich's CSV input on the worker's disk (issue #13): read only inside the input folder (real path
 * checked: `/proc/self/environ`, `../`, absolute paths elsewhere and symlinks out are refused, naming the
 * flag), and no error or result ever quotes the file's content (header names, values).
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MockActivityEnvironment } from '@temporalio/testing';
import { ApplicationFailure } from '@temporalio/common';
import { createYoutubePrepareActivities, type Prepared } from '../../src/pipelines/youtube/activities/prepare';
import { LocalBucket } from '../../src/sinks/local-bucket';
import { rejection } from '../helpers/rejection';
import { tmpDir } from '../helpers/temporal';

const SECRET = `sEcReT${process.pid}Zq9`;
const GOOD = ['dQw4w9WgXcQ', 'aaaaaaaaaaa', 'bbbbbbbbbbb'];

describe('youtube-enrich: the CSV input on the worker', () => {
  const root = tmpDir('yt-input-root-');
  const inputDir = path.join(root, 'input');
  const outside = path.join(root, 'outside');
  const bucket = new LocalBucket(path.join(root, 'bucket'));
  const { youtubePrepare } = createYoutubePrepareActivities({ bucket, inputDir });
  let n = 0;
  const prepare = (csv: string, column = 'song'): Promise<Prepared> =>
    new MockActivityEnvironment().run(youtubePrepare, {
      workKey: `work/${n++}`,
      csv,
      column,
      chunkSize: 100,
    });
  /** The refusal (an error is required), as text: message and type. */
  const refusal = async (p: Promise<unknown>): Promise<string> => {
    const f = await rejection(p, ApplicationFailure, 'the input must be refused');
    expect(f.type).toBe('InvalidInput');
    expect(f.nonRetryable).toBe(true);
    return `${f.message} ${JSON.stringify(f.details ?? [])}`;
  };

  beforeAll(() => {
    process.env.LONGHAUL_TEST_PLANTED = SECRET; // in this process's /proc/self/environ
    fs.mkdirSync(inputDir, { recursive: true });
    fs.mkdirSync(outside, { recursive: true });
    fs.writeFileSync(path.join(outside, 'secret.csv'), `${SECRET},song\nx,${GOOD[0]}\n`);
    fs.symlinkSync(path.join(outside, 'secret.csv'), path.join(inputDir, 'link-out.csv'));
    fs.symlinkSync(outside, path.join(inputDir, 'dir-out'));
    fs.mkdirSync(path.join(inputDir, 'sub'));
    fs.writeFileSync(
      path.join(inputDir, 'sub', 'good.csv'),
      `user,song\n${GOOD.map((g, i) => `u${i},${g}`).join('\n')}\n`,
    );
    fs.symlinkSync(path.join(inputDir, 'sub', 'good.csv'), path.join(inputDir, 'link-in.csv'));
    fs.writeFileSync(path.join(inputDir, 'header-secret.csv'), `user,${SECRET},other\nu1,${GOOD[0]},x\n`);
    fs.writeFileSync(
      path.join(inputDir, 'value-secret.csv'),
      `user,song\nu1,${GOOD[0]}\nu2,${SECRET}\nu3,not-an-id\nu4,${GOOD[1]}\n`,
    );
    fs.writeFileSync(path.join(inputDir, 'unclosed.csv'), `song,user\n"${SECRET},u1\n${GOOD[0]},u2\n`);
  });
  afterAll(() => {
    delete process.env.LONGHAUL_TEST_PLANTED;
    fs.rmSync(root, { recursive: true, force: true });
  });

  it('refuses /proc/self/environ without quoting it', async () => {
    const text = await refusal(prepare('/proc/self/environ', 'x'));
    expect(text).toMatch(/--csv: \/proc\/self\/environ is outside the worker's input folder \(LONGHAUL_INPUT_DIR\)/);
    expect(text).not.toContain(SECRET);
    expect(text).not.toMatch(/PATH=|HOME=/);
  });

  it('refuses ../, absolute paths elsewhere and symlinks that point out of the folder', async () => {
    for (const csv of [
      '../outside/secret.csv',
      'sub/../../outside/secret.csv',
      path.join(outside, 'secret.csv'),
      '/etc/passwd',
      'link-out.csv',
      'dir-out/secret.csv',
      path.join(inputDir, 'link-out.csv'),
    ]) {
      const text = await refusal(prepare(csv));
      expect(text, csv).toMatch(/--csv: .* is outside the worker's input folder/);
      expect(text, csv).not.toContain(SECRET);
    }
  });

  it('says "not found" only for a path inside the folder', async () => {
    expect(await refusal(prepare('nope.csv'))).toMatch(/--csv: nope\.csv not found in the worker's input folder/);
    expect(await refusal(prepare('/nope/elsewhere.csv'))).toMatch(/outside the worker's input folder/);
    expect(await refusal(prepare('sub'))).toMatch(/--csv: sub is not a regular file/);
  });

  it('reads a file inside the folder: a relative path, an absolute one, a symlink staying inside', async () => {
    for (const csv of ['sub/good.csv', path.join(inputDir, 'sub', 'good.csv'), 'link-in.csv', './sub/../sub/good.csv'])
      expect(await prepare(csv), csv).toMatchObject({ rows: 3, distinct: 3, invalid: 0 });
  });

  it('a missing column names the flag and counts the header, never quoting it', async () => {
    const text = await refusal(prepare('header-secret.csv', 'song'));
    expect(text).toMatch(/--column: "song" is not a column of the CSV header \(which has 3 column\(s\)/);
    expect(text).not.toContain(SECRET);
  });

  it('a malformed CSV gives the line and the fault, never the field', async () => {
    const text = await refusal(prepare('unclosed.csv'));
    expect(text).toMatch(/--csv: malformed CSV at line \d+ \(CSV_QUOTE_NOT_CLOSED\)/);
    expect(text).not.toContain(SECRET);
  });

  it('invalid values are reported by line number, not by value', async () => {
    const p = await prepare('value-secret.csv');
    expect(p).toMatchObject({ rows: 4, distinct: 2, invalid: 2, invalidLines: [3, 4] });
    expect(JSON.stringify(p)).not.toContain(SECRET);
    expect(JSON.stringify(p)).not.toContain('not-an-id');
  });
});

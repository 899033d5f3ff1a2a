/** The Bucket contract on the local-folder implementation, plus what is specific to a folder. */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { LocalBucket } from '../../src/sinks/local-bucket';
import { bucketContract } from '../helpers/sink-contracts';

const root = fs.mkdtempSync(path.join(os.tmpdir(), 'longhaul-bucket-'));
afterAll(() => fs.rmSync(root, { recursive: true, force: true }));

bucketContract('LocalBucket', {
  make: async () => new LocalBucket(path.join(root, 'contract')),
  expectedUri: (key) => pathToFileURL(path.join(root, 'contract', ...key.split('/'))).href,
});

describe('LocalBucket on disk', () => {
  it('stores keys as nested files and leaves no temporary file behind, even after a failed write', async () => {
    const dir = path.join(root, 'files');
    const b = new LocalBucket(dir);
    await b.put('a/b/c.txt', 'hello');
    expect(fs.readFileSync(path.join(dir, 'a', 'b', 'c.txt'), 'utf8')).toBe('hello');
    const { Readable } = await import('node:stream');
    const failing = Readable.from(
      (async function* () {
        yield Buffer.from('x');
        throw new Error('boom');
      })(),
    );
    await expect(b.put('a/b/d.txt', failing)).rejects.toThrow('boom');
    expect(fs.readdirSync(path.join(dir, 'a', 'b'))).toEqual(['c.txt']);
  });

  it('does not list an in-flight temporary file', async () => {
    const dir = path.join(root, 'inflight');
    const b = new LocalBucket(dir);
    await b.put('k', 'v');
    fs.writeFileSync(path.join(dir, 'k.1234.part'), 'half');
    expect(await b.list('')).toEqual([{ key: 'k', size: 1 }]);
  });
});

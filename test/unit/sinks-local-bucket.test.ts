/** The Bucket contract on the local-folder implementation, plus what is specific to a folder. */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, afterEach, describe, expect, it, vi } from 'vitest';
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
    expect(await b.list('')).toEqual([{ key: 'k', size: 1, modified: expect.any(Date) }]);
  });

  afterEach(() => vi.restoreAllMocks());

  it('makes a put durable: the temporary file is fsynced before the rename, the folder after it', async () => {
    const dir = path.join(root, 'durable');
    const b = new LocalBucket(dir);
    await b.put('x/warm-up', 'w'); // folders exist: only the object's own steps are recorded below
    const steps: string[] = [];
    const realOpen = fs.promises.open.bind(fs.promises);
    vi.spyOn(fs.promises, 'open').mockImplementation(async (...args: Parameters<typeof fs.promises.open>) => {
      const handle = await realOpen(...args);
      const name = path.relative(dir, String(args[0])).replace(/\.[0-9a-f-]{36}\.part$/, '.part') || '.';
      const sync = handle.sync.bind(handle);
      handle.sync = async () => {
        steps.push(`fsync ${name}`);
        return sync();
      };
      return handle;
    });
    const realRename = fs.promises.rename.bind(fs.promises);
    vi.spyOn(fs.promises, 'rename').mockImplementation(async (from, to) => {
      steps.push(`rename ${path.relative(dir, String(to))}`);
      return realRename(from, to);
    });
    await b.put('x/obj.bin', Buffer.from('payload'));
    expect(steps).toEqual([
      `fsync ${path.join('x', 'obj.bin.part')}`,
      `rename ${path.join('x', 'obj.bin')}`,
      'fsync x',
    ]);
    expect(fs.readFileSync(path.join(dir, 'x', 'obj.bin'), 'utf8')).toBe('payload');
    steps.length = 0;
    await b.put('x/stream', (await import('node:stream')).Readable.from([Buffer.from('a'), Buffer.from('b')]));
    expect(steps).toEqual([`fsync ${path.join('x', 'stream.part')}`, `rename ${path.join('x', 'stream')}`, 'fsync x']);
    expect(fs.readFileSync(path.join(dir, 'x', 'stream'), 'utf8')).toBe('ab');
  });

  it('lists a prefix by reading only the folders under it, not the whole root', async () => {
    const dir = path.join(root, 'walk');
    const b = new LocalBucket(dir);
    for (const k of [
      'raw/run-1/q1/page-1',
      'raw/run-1/q2/page-1',
      'raw/run-2/q1/page-1',
      'images/u1',
      'images/u2',
      'top',
    ])
      await b.put(k, 'x');
    const read: string[] = [];
    const realReaddir = fs.promises.readdir.bind(fs.promises) as (...a: unknown[]) => Promise<unknown>;
    vi.spyOn(fs.promises, 'readdir').mockImplementation((async (...args: unknown[]) => {
      read.push(path.relative(dir, String(args[0])) || '.');
      return realReaddir(...args);
    }) as never);
    /** raw/run-1 and its two subfolders: what the listings of raw/run-1/ and raw/run-1/q read, and only that. */
    const runFolders = [path.join('raw', 'run-1'), path.join('raw', 'run-1', 'q1'), path.join('raw', 'run-1', 'q2')];
    expect((await b.list('raw/run-1/')).map((o) => o.key)).toEqual(['raw/run-1/q1/page-1', 'raw/run-1/q2/page-1']);
    expect(read.sort()).toEqual(runFolders);
    read.length = 0;
    // A partial last segment reads its parent folder and only the matching entries below it.
    expect((await b.list('raw/run-1/q')).map((o) => o.key)).toEqual(['raw/run-1/q1/page-1', 'raw/run-1/q2/page-1']);
    expect(read.sort()).toEqual(runFolders);
    read.length = 0;
    expect(await b.list('nothing/here/')).toEqual([]);
    expect(read).toEqual([path.join('nothing', 'here')]);
    expect((await b.list('')).length).toBe(6);
    // A prefix cannot walk out of the root.
    await expect(b.list('../')).rejects.toThrow(/prefix/);
    await expect(b.list('raw/../../x')).rejects.toThrow(/prefix/);
  });
});

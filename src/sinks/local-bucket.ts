/**
 * Bucket on a local folder. A put is durable and atomic: the bytes go to a temporary file (`<key>.<uuid>.part`,
 * never listed), which is fsynced, renamed onto the key, and then the folder is fsynced so the rename itself
 * survives a crash — a key never names an empty or partial object. A listing walks only the folder of the
 * prefix (and the folders below it that can match), not the whole root.
 */
import fs from 'node:fs';
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import type { Readable } from 'node:stream';
import { pathToFileURL } from 'node:url';
import { assertKey, type Body, type Bucket, type ObjectInfo } from './bucket';

export class LocalBucket implements Bucket {
  readonly kind = 'local' as const;
  constructor(readonly root: string) {
    fs.mkdirSync(root, { recursive: true });
  }

  private file(key: string): string {
    assertKey(key);
    return path.join(this.root, ...key.split('/'));
  }

  /** The file of an object (readers that need a path: a warehouse's own loader). */
  pathOf(key: string): string {
    return this.file(key);
  }

  async put(key: string, body: Body): Promise<void> {
    const dest = this.file(key);
    const tmp = `${dest}.${randomUUID()}.part`;
    try {
      // The folder is made when it is missing (not looked for on every put).
      const handle = await fs.promises.open(tmp, 'w').catch(async (err: NodeJS.ErrnoException) => {
        if (err.code !== 'ENOENT') throw err;
        await fs.promises.mkdir(path.dirname(dest), { recursive: true });
        return fs.promises.open(tmp, 'w');
      });
      try {
        // A body in memory is written at once; a stream chunk by chunk.
        if (typeof body === 'string' || Buffer.isBuffer(body)) await handle.writeFile(body);
        else
          for await (const chunk of body as AsyncIterable<Buffer | string>) {
            const buf = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
            for (let off = 0; off < buf.length;) off += (await handle.write(buf, off, buf.length - off)).bytesWritten;
          }
        await handle.sync(); // the bytes are on disk before the name points at them
      } finally {
        await handle.close();
      }
      await fs.promises.rename(tmp, dest);
    } catch (err) {
      await fs.promises.rm(tmp, { force: true });
      throw err;
    }
    await syncDir(path.dirname(dest)); // the rename (the folder entry) is on disk too
  }

  async get(key: string): Promise<Buffer> {
    return fs.promises.readFile(this.file(key));
  }

  async getStream(key: string): Promise<Readable> {
    const f = this.file(key);
    await fs.promises.access(f);
    return fs.createReadStream(f);
  }

  async exists(key: string): Promise<boolean> {
    return fs.promises.stat(this.file(key)).then(
      (s) => s.isFile(),
      () => false,
    );
  }

  async list(prefix: string): Promise<ObjectInfo[]> {
    // A prefix is a string prefix: its last segment may be partial ('raw/run-1/q' matches raw/run-1/q1/…).
    const base = prefix.slice(0, prefix.lastIndexOf('/') + 1); // '' or 'a/b/'
    const segments = base.split('/').filter(Boolean);
    if (segments.some((s) => s === '.' || s === '..') || base.startsWith('/') || prefix.includes('\\'))
      throw new Error(`Invalid bucket prefix "${prefix}"`);
    const out: ObjectInfo[] = [];
    const walk = async (dir: string, rel: string): Promise<void> => {
      const entries = await fs.promises.readdir(dir, { withFileTypes: true }).catch(() => []);
      for (const e of entries) {
        const key = `${rel}${e.name}`;
        if (e.isDirectory()) {
          // Descend only where keys can still start with the prefix.
          if (`${key}/`.startsWith(prefix) || prefix.startsWith(`${key}/`))
            await walk(path.join(dir, e.name), `${key}/`);
        } else if (e.isFile() && !e.name.endsWith('.part') && key.startsWith(prefix)) {
          const st = await fs.promises.stat(path.join(dir, e.name));
          out.push({ key, size: st.size, modified: st.mtime });
        }
      }
    };
    await walk(path.join(this.root, ...segments), base);
    // Byte order of the UTF-8 keys, as S3 lists them (localeCompare would put 'a_b' before 'a-b' and 'B').
    return out.sort((a, b) => Buffer.compare(Buffer.from(a.key), Buffer.from(b.key)));
  }

  async delete(key: string): Promise<void> {
    await fs.promises.rm(this.file(key), { force: true });
  }

  uri(key: string): string {
    return pathToFileURL(this.file(key)).href;
  }
}

/** fsync a folder (its entries: a rename into it). Platforms that cannot open a folder (Windows) skip it. */
async function syncDir(dir: string): Promise<void> {
  let handle: fs.promises.FileHandle | undefined;
  try {
    handle = await fs.promises.open(dir, 'r');
  } catch (err) {
    if (process.platform === 'win32') return;
    throw err;
  }
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

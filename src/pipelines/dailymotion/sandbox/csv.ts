/**
 * CSV output of the Dailymotion sandbox: RFC 4180 quoting (fields with commas, quotes or line breaks are
 * quoted, quotes doubled), UTF-8, an optional byte-order mark, and a streamed body built in ~64 KB chunks
 * as the reader pulls, so a file of millions of rows never sits in memory.
 */
import { Readable } from 'node:stream';

export function csvField(v: string): string {
  return /[",\r\n]/.test(v) ? `"${v.replace(/"/g, '""')}"` : v;
}

export function csvLine(fields: readonly string[]): string {
  return fields.map(csvField).join(',') + '\n';
}

/** A readable CSV file: header, then the rows as they are generated. */
export function csvStream(header: readonly string[], rows: Iterable<string[]>, opts: { bom?: boolean } = {}): Readable {
  function* chunks(): Generator<string> {
    let buf = (opts.bom ? '\uFEFF' : '') + csvLine(header);
    for (const row of rows) {
      buf += csvLine(row);
      if (buf.length >= 64 * 1024) {
        yield buf;
        buf = '';
      }
    }
    if (buf) yield buf;
  }
  return Readable.from(chunks(), { objectMode: false });
}

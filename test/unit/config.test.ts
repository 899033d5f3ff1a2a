import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config';

describe('configuration', () => {
  it('applies defaults', () => {
    const c = parseConfig({});
    expect(c.TEMPORAL_ADDRESS).toBe('127.0.0.1:7233');
    expect(c.WAREHOUSE).toBe('duckdb');
    expect(c.BUCKET).toBe('local');
    // DuckDB is bounded in a worker (its own default is most of the machine's memory).
    expect([c.DUCKDB_MEMORY_LIMIT, c.DUCKDB_THREADS]).toEqual(['256MB', 2]);
  });
  it('refuses a DuckDB memory limit that is not a size, naming the variable', () => {
    expect(() => parseConfig({ DUCKDB_MEMORY_LIMIT: 'lots' })).toThrow(/DUCKDB_MEMORY_LIMIT: a size such as 256MB/);
    expect(() => parseConfig({ DUCKDB_THREADS: '0' })).toThrow(/DUCKDB_THREADS/);
    expect(parseConfig({ DUCKDB_MEMORY_LIMIT: '1.5GiB' }).DUCKDB_MEMORY_LIMIT).toBe('1.5GiB');
  });
  it('reads a shortened YouTube quota day (sandboxes only), refusing what is not a duration', () => {
    expect(parseConfig({}).YOUTUBE_QUOTA_DAY).toBeUndefined(); // production: midnight Pacific
    expect(parseConfig({ YOUTUBE_QUOTA_DAY: '20s' }).YOUTUBE_QUOTA_DAY).toBe(20_000);
    expect(parseConfig({ YOUTUBE_QUOTA_DAY: '5000ms' }).YOUTUBE_QUOTA_DAY).toBe(5000);
    for (const bad of ['soon', '500ms', '2d', '20'])
      expect(() => parseConfig({ YOUTUBE_QUOTA_DAY: bad })).toThrow(
        /YOUTUBE_QUOTA_DAY: .* not a duration from 1s to 24h/,
      );
  });
  it('names every bad variable', () => {
    expect(() => parseConfig({ WAREHOUSE: 'oracle', DM_BASE_URL: 'not a url' })).toThrow(
      /WAREHOUSE:[\s\S]*DM_BASE_URL:/,
    );
  });
});

import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config';

describe('configuration', () => {
  it('applies defaults', () => {
    const c = parseConfig({});
    expect(c.TEMPORAL_ADDRESS).toBe('127.0.0.1:7233');
    expect(c.WAREHOUSE).toBe('duckdb');
    expect(c.BUCKET).toBe('local');
  });
  it('names every bad variable', () => {
    expect(() => parseConfig({ WAREHOUSE: 'oracle', DM_BASE_URL: 'not a url' })).toThrow(
      /WAREHOUSE:[\s\S]*DM_BASE_URL:/,
    );
  });
});

/** Typed `--api key=value` entries for the sandboxes' simulation specs (src/sandbox/index.ts). */
import { formatDuration, parseDuration } from '../shared/durations';
import type { SimulationKey } from './index';

/** An integer from `min` to `max`. */
export function intKey(describe: string, def: number, min: number, max = Number.MAX_SAFE_INTEGER): SimulationKey {
  return {
    describe,
    default: String(def),
    parse: (t) => {
      const n = Number(t);
      if (!/^\d+$/.test(t.trim()) || n < min || n > max) throw new Error(`an integer from ${min} to ${max}`);
      return n;
    },
  };
}

/** A fraction from 0 to 1. */
export function fractionKey(describe: string, def: number): SimulationKey {
  return {
    describe,
    default: String(def),
    parse: (t) => {
      const n = Number(t);
      if (t.trim() === '' || !Number.isFinite(n) || n < 0 || n > 1) throw new Error('a fraction from 0 to 1');
      return n;
    },
  };
}

/** A duration ("2h", "90s", "1h30m"), as milliseconds. */
export function durationKey(describe: string, defMs: number, minMs = 0): SimulationKey {
  return {
    describe,
    default: formatDuration(defMs),
    parse: (t) => {
      let n: number;
      try {
        n = parseDuration(t);
      } catch {
        throw new Error('a duration such as 90s, 2h or 1h30m');
      }
      if (n < minMs) throw new Error(`a duration of at least ${formatDuration(minMs)}`);
      return n;
    },
  };
}

/** The keys every sandbox accepts in a simulation: faults the framework injects on every API route. */
export const COMMON_KEYS: Record<string, SimulationKey> = {
  errorRate: fractionKey('share of API calls answered 503 (retried by the pipeline)', 0),
  rateLimitRate: fractionKey('share of API calls answered 429 with a Retry-After', 0),
  retryAfter: durationKey('the Retry-After of those 429 answers', 1000, 1000),
};

/**
 * The quota ledger's rules as pure functions over its state (the workflow only wires them to updates):
 * period roll-over, reservations (the bucket with the most units left, keys in turn), refunds, keys
 * marked spent or invalid, and configuration changes. Workflow-safe: no I/O, time passed in.
 */
import { nextReset, periodStart } from './quota-reset';
import type {
  BucketState,
  LedgerConfig,
  LedgerState,
  Permit,
  RefundRequest,
  ReserveRequest,
  ReserveResult,
} from './quota';

const DEFAULT_GRACE_MS = 10 * 60_000;
const DEFAULT_SPENT_RETRY_MS = 5 * 60_000;

export class LedgerError extends Error {
  override name = 'LedgerError';
}

export function emptyLedger(): LedgerState {
  return {
    buckets: [],
    costs: {},
    resetGraceMs: DEFAULT_GRACE_MS,
    spentRetryMs: DEFAULT_SPENT_RETRY_MS,
    permits: 0,
    removed: [],
    updates: 0,
  };
}

/** Checks a configuration before it is applied (an update validator: a bad one never reaches history). */
export function validateConfig(config: LedgerConfig): void {
  const ids = new Set<string>();
  const fps = new Set<string>();
  for (const b of config.buckets ?? []) {
    if (!b.id) throw new LedgerError('bucket without an id');
    if (ids.has(b.id)) throw new LedgerError(`bucket ${b.id} is listed twice`);
    ids.add(b.id);
    if (!Number.isFinite(b.unitsPerPeriod) || b.unitsPerPeriod < 0)
      throw new LedgerError(`bucket ${b.id}: unitsPerPeriod must be ≥ 0`);
    for (const k of b.keys) {
      if (fps.has(k)) throw new LedgerError(`key ${k} belongs to two buckets`);
      fps.add(k);
    }
  }
  for (const [m, c] of Object.entries(config.costs ?? {}))
    if (!Number.isFinite(c) || c <= 0) throw new LedgerError(`cost of ${m} must be > 0`);
}

/**
 * What in `config` contradicts the configuration a running ledger already holds (a bucket's units per period
 * or reset rule, a method's cost, a key moved to another bucket, the grace settings) — one line each; empty
 * when it only repeats or adds to it. A ledger is shared by every run and worker of its pool: a conflicting
 * configuration is refused (`LedgerConflict`), never applied, so the last caller cannot flip the pool.
 */
export function configConflicts(state: LedgerState, config: LedgerConfig): string[] {
  const out: string[] = [];
  const buckets = new Map(state.buckets.map((b) => [b.id, b]));
  const bucketOfKey = new Map(state.buckets.flatMap((b) => b.keys.map((k) => [k.fingerprint, b.id] as const)));
  for (const c of config.buckets ?? []) {
    const b = buckets.get(c.id);
    if (b && b.unitsPerPeriod !== c.unitsPerPeriod)
      out.push(`bucket ${c.id}: ${c.unitsPerPeriod} units per period asked, the ledger has ${b.unitsPerPeriod}`);
    if (b && JSON.stringify(b.reset) !== JSON.stringify(c.reset))
      out.push(`bucket ${c.id}: reset ${JSON.stringify(c.reset)} asked, the ledger has ${JSON.stringify(b.reset)}`);
    for (const fp of c.keys) {
      const other = bucketOfKey.get(fp);
      if (other !== undefined && other !== c.id)
        out.push(`key ${fp}: in bucket ${c.id} asked, the ledger has ${other}`);
    }
  }
  for (const [m, cost] of Object.entries(config.costs ?? {}))
    if (state.costs[m] !== undefined && state.costs[m] !== cost)
      out.push(`method ${m}: cost ${cost} asked, the ledger has ${state.costs[m]}`);
  if (config.resetGraceMs !== undefined && config.resetGraceMs !== state.resetGraceMs)
    out.push(`resetGraceMs: ${config.resetGraceMs} asked, the ledger has ${state.resetGraceMs}`);
  if (config.spentRetryMs !== undefined && config.spentRetryMs !== state.spentRetryMs)
    out.push(`spentRetryMs: ${config.spentRetryMs} asked, the ledger has ${state.spentRetryMs}`);
  return out;
}

/** The prefix of a refused configuration's message (callers fail at once on it: waiting will not help). */
export const LEDGER_CONFLICT = 'LedgerConflict';

/** The validator of a configure update on a running ledger: a valid configuration that contradicts nothing. */
export function validateJoin(state: LedgerState, config: LedgerConfig, ledgerId: string): void {
  validateConfig(config);
  const conflicts = configConflicts(state, config);
  if (conflicts.length)
    throw new LedgerError(
      `${LEDGER_CONFLICT}: quota ledger ${ledgerId} is configured differently — ${conflicts.join('; ')}. ` +
        `Give every run and worker of a pool the same settings (unitsPerDay, costPerCall), or use another pool.`,
    );
}

/**
 * A caller's configuration joining a running ledger (validated by validateJoin): buckets, keys and methods
 * it adds are added; nothing is changed or dropped (another worker may hold other keys of the pool).
 */
/** A bucket the ledger has not seen before: nothing used, its period starting now. */
function freshBucket(c: LedgerConfig['buckets'][number], keys: BucketState['keys'], now: number): BucketState {
  return {
    id: c.id,
    unitsPerPeriod: c.unitsPerPeriod,
    reset: c.reset,
    periodStart: periodStart(c.reset, now),
    resetAt: nextReset(c.reset, now),
    used: 0,
    keys,
    nextKey: 0,
  };
}

export function join(state: LedgerState, config: LedgerConfig, now: number): void {
  for (const c of config.buckets) {
    const b = state.buckets.find((x) => x.id === c.id);
    if (!b) {
      state.buckets.push(
        freshBucket(
          c,
          c.keys.map((fp) => ({ fingerprint: fp, calls: 0, units: 0 })),
          now,
        ),
      );
      continue;
    }
    for (const fp of c.keys)
      if (!b.keys.some((k) => k.fingerprint === fp)) b.keys.push({ fingerprint: fp, calls: 0, units: 0 });
  }
  for (const [m, cost] of Object.entries(config.costs)) if (state.costs[m] === undefined) state.costs[m] = cost;
}

/**
 * Applies a configuration as the ledger's own (its start, or a restart after it was terminated): buckets and
 * keys added or updated, the ones no longer listed dropped; usage of the buckets kept.
 */
export function configure(state: LedgerState, config: LedgerConfig, now: number): void {
  validateConfig(config);
  const old = new Map(state.buckets.map((b) => [b.id, b]));
  state.buckets = config.buckets.map((c): BucketState => {
    const prev = old.get(c.id);
    const keys = c.keys.map(
      (fp) => prev?.keys.find((k) => k.fingerprint === fp) ?? { fingerprint: fp, calls: 0, units: 0 },
    );
    if (prev) return { ...prev, unitsPerPeriod: c.unitsPerPeriod, reset: c.reset, keys };
    return freshBucket(c, keys, now);
  });
  state.costs = { ...state.costs, ...config.costs };
  state.resetGraceMs = config.resetGraceMs ?? state.resetGraceMs;
  state.spentRetryMs = config.spentRetryMs ?? state.spentRetryMs;
}

/**
 * A ledger started from a terminated predecessor's state: usage and spent marks are kept (they protect
 * today's quota), keys taken out of the pool get another chance (an operator may have fixed them).
 */
export function recover(state: LedgerState): void {
  for (const b of state.buckets) for (const k of b.keys) delete k.invalid;
  state.removed = [];
}

/** Starts a new period for every bucket whose reset has passed; lifts spent marks that have run out. */
export function roll(state: LedgerState, now: number): void {
  for (const b of state.buckets) {
    if (now >= b.resetAt) {
      b.used = 0;
      b.periodStart = periodStart(b.reset, now);
      b.resetAt = nextReset(b.reset, now);
    }
    if (b.spentUntil !== undefined && now >= b.spentUntil) delete b.spentUntil;
  }
}

const validKeys = (b: BucketState) => b.keys.filter((k) => !k.invalid);

export function costOf(state: LedgerState, method: string): number {
  const c = state.costs[method];
  if (c === undefined) throw new LedgerError(`no cost configured for method ${method}`);
  return c;
}

export function validateReserve(state: LedgerState, req: ReserveRequest): void {
  if (!Number.isInteger(req.calls) || req.calls < 1) throw new LedgerError('calls must be a positive integer');
  if (req.minCalls !== undefined && (!Number.isInteger(req.minCalls) || req.minCalls < 1 || req.minCalls > req.calls))
    throw new LedgerError('minCalls must be between 1 and calls');
  costOf(state, req.method);
}

export function reserve(state: LedgerState, req: ReserveRequest, now: number, ledgerId: string): ReserveResult {
  roll(state, now);
  const cost = costOf(state, req.method);
  const min = req.minCalls ?? 1;
  const usable = state.buckets.filter((b) => validKeys(b).length > 0);
  if (usable.length === 0) {
    const removed = state.removed.map((r) => `${r.fingerprint} (${r.bucket}): ${r.reason}`).join('; ');
    return { kind: 'none', reason: `no usable key in the pool${removed ? ` — removed: ${removed}` : ''}` };
  }
  const open = usable
    .filter((b) => b.spentUntil === undefined && b.unitsPerPeriod - b.used >= cost * min)
    .sort((a, b) => b.unitsPerPeriod - b.used - (a.unitsPerPeriod - a.used) || (a.id < b.id ? -1 : 1));
  const bucket = open[0];
  if (!bucket) {
    const until = Math.min(...usable.map((b) => b.spentUntil ?? b.resetAt));
    return { kind: 'wait', until, reason: `all ${usable.length} quota buckets are spent until their reset` };
  }
  const calls = Math.min(req.calls, Math.floor((bucket.unitsPerPeriod - bucket.used) / cost));
  const keys = validKeys(bucket);
  const key = keys[bucket.nextKey % keys.length];
  bucket.nextKey = (bucket.nextKey + 1) % keys.length;
  bucket.used += calls * cost;
  key.calls += calls;
  key.units += calls * cost;
  state.permits++;
  const permit: Permit = {
    id: `${ledgerId}-${state.permits}`,
    bucket: bucket.id,
    fingerprint: key.fingerprint,
    method: req.method,
    calls,
    units: calls * cost,
    periodStart: bucket.periodStart,
  };
  return { kind: 'granted', permit };
}

/** Gives back the units of calls a permit did not make (nothing when its period is over). */
export function refund(state: LedgerState, { permit, callsUsed }: RefundRequest, now: number): void {
  roll(state, now);
  const unused = Math.max(0, permit.calls - Math.max(0, callsUsed));
  if (unused === 0) return;
  const bucket = state.buckets.find((b) => b.id === permit.bucket);
  if (!bucket || bucket.periodStart !== permit.periodStart) return;
  const units = Math.min(bucket.used, unused * (permit.units / permit.calls));
  bucket.used -= units;
  const key = bucket.keys.find((k) => k.fingerprint === permit.fingerprint);
  if (key) {
    key.calls -= unused;
    key.units -= units;
  }
}

/** The provider said the key's quota is exceeded: its bucket is spent until the next reset. */
export function markSpent(state: LedgerState, fingerprint: string, now: number): { until: number } {
  roll(state, now);
  const bucket = state.buckets.find((b) => b.keys.some((k) => k.fingerprint === fingerprint));
  if (!bucket) throw new LedgerError(`unknown key ${fingerprint}`);
  const justReset = now - bucket.periodStart < state.resetGraceMs;
  const until = justReset ? now + state.spentRetryMs : bucket.resetAt;
  bucket.spentUntil = Math.max(bucket.spentUntil ?? 0, until);
  if (!justReset) bucket.used = Math.max(bucket.used, bucket.unitsPerPeriod);
  return { until: bucket.spentUntil };
}

export function markInvalid(state: LedgerState, fingerprint: string, reason: string, now: number): void {
  for (const b of state.buckets) {
    const key = b.keys.find((k) => k.fingerprint === fingerprint);
    if (!key || key.invalid) continue;
    const at = new Date(now).toISOString();
    key.invalid = { reason, at };
    state.removed.push({ fingerprint, bucket: b.id, reason, at });
  }
}

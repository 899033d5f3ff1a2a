/**
 * The policies of the permit entity (permits.ts): what decides whether the request at the head of the queue
 * may be granted now. Pure functions over plain state (carried across continue-as-new, queried, unit-tested):
 * - `concurrency` — at most `permits` held at once (Dailymotion's 2 reports generating per account);
 * - `rateWindow` — calls spaced 60 s / perMinute apart, at most perMinute in any 60 s (held ones and those
 *   released in the last 60 s count), perDay per UTC day, and nothing while the API said to wait (a 429, or
 *   0 remaining) — Datorama's 60/min and 20,000/day;
 * - `tokenBucket` — calls at `perSecond` on average, at most `burst` at once (a token per call, the bucket refilled
 *   continuously), nothing while the API said to wait — Titelive's measured ~30 requests/s sustained;
 * - `keyPool` — units of a pool of keys with quotas and scheduled resets (YouTube's Cloud projects): the grant
 *   names the key; a release gives back unused calls; the API saying "quota exceeded" or "invalid key" is
 *   observed (the rules are quota-state.ts's, the quota ledger's).
 * The entity owns the queue (first come, first served), the holders and their leases; a policy only answers
 * "now, or not before <instant> because <why>" and keeps its own accounting. Workflow-safe.
 */
import { formatDuration } from '../../shared/durations';
import { thousands } from '../workflow';
import type { LedgerConfig, LedgerState, Permit } from './quota';
import {
  configure,
  emptyLedger,
  join,
  LEDGER_CONFLICT,
  markInvalid,
  markSpent,
  refund,
  recover,
  reserve,
  roll,
  validateJoin,
  validateReserve,
} from './quota-state';

export const WINDOW_MS = 60_000;
export const DAY_MS = 86_400_000;

/** A request waiting in the queue. */
export interface PermitAsk {
  requestId: string;
  requesterId: string;
  purpose?: string;
  since: number;
  /** This request's lease (ms), renewed while held; default: the entity's. */
  leaseMs?: number;
  /** keyPool: the method and calls wanted. */
  method?: string;
  calls?: number;
}

/** A granted permit, until released (or its lease runs out: its holder died). */
export interface PermitHolder {
  requestId: string;
  requesterId: string;
  purpose?: string;
  grantedAt: number;
  leaseUntil: number;
  leaseMs?: number;
  /** What the grant gave the requester (keyPool: the key and units). */
  grant?: PermitGrant;
}

export interface PermitGrant {
  permit?: Permit;
}

/** What a requester reports at release, or any time (`observe`): what the API said. */
export interface PermitObservation {
  /** rateWindow: the API's own count (headers), epoch ms resets. */
  minuteRemaining?: number;
  minuteReset?: number;
  dayLimit?: number;
  dayRemaining?: number;
  dayReset?: number;
  /** rateWindow: a 429 — nobody calls before this instant. */
  blockUntil?: number;
  /** keyPool: calls made with the permit (the others' units are given back). */
  callsUsed?: number;
  /** keyPool: a consumed grant's unused calls given back (such grants are not held: see `consumable`). */
  returned?: { permit: Permit; callsUsed: number };
  /** keyPool: the API said this key's quota is exceeded / the key is invalid. */
  spent?: string;
  invalid?: { fingerprint: string; reason: string };
}

/** `why` is given the wait as text ("23s") and says why in a line (the entity's timer summary). */
export type Decision = { ok: true; grant?: PermitGrant } | { ok: false; at: number; why: (wait: string) => string };

export type PolicyConfig =
  | { kind: 'concurrency'; permits: number }
  | { kind: 'rateWindow'; perMinute: number; perDay: number; spacingMs: number }
  | { kind: 'tokenBucket'; perSecond: number; burst: number }
  | { kind: 'keyPool'; ledger: LedgerConfig; poolId: string };

export interface ConcurrencyState {
  kind: 'concurrency';
  permits: number;
}

export interface RateWindowState {
  kind: 'rateWindow';
  perMinute: number;
  perDay: number;
  spacingMs: number;
  /** Release times in the last 60 s. */
  released: number[];
  lastGrantAt: number;
  day: number;
  usedToday: number;
  blockedUntil: number;
  /** Most permits in any 60 s, as counted here. */
  peakInWindow: number;
  /** What the last grant changed, for `withdrawn`. */
  undo?: { lastGrantAt: number; peakInWindow: number };
}

export interface TokenBucketState {
  kind: 'tokenBucket';
  perSecond: number;
  burst: number;
  /** Tokens in the bucket at `at` (fractional: refilled continuously). */
  tokens: number;
  at: number;
  blockedUntil: number;
  /** Calls granted, ever (the Web UI's line). */
  calls: number;
}

export interface KeyPoolState {
  kind: 'keyPool';
  poolId: string;
  ledger: LedgerState;
}

export type PolicyState = ConcurrencyState | RateWindowState | TokenBucketState | KeyPoolState;

/** A policy's state from its configuration (a fresh entity). */
export function initPolicy(c: PolicyConfig, now: number): PolicyState {
  switch (c.kind) {
    case 'concurrency':
      return { kind: 'concurrency', permits: c.permits };
    case 'rateWindow':
      return {
        kind: 'rateWindow',
        perMinute: c.perMinute,
        perDay: c.perDay,
        spacingMs: c.spacingMs,
        released: [],
        lastGrantAt: 0,
        day: Math.floor(now / DAY_MS),
        usedToday: 0,
        blockedUntil: 0,
        peakInWindow: 0,
      };
    case 'tokenBucket':
      return {
        kind: 'tokenBucket',
        perSecond: c.perSecond,
        burst: c.burst,
        tokens: c.burst,
        at: now,
        blockedUntil: 0,
        calls: 0,
      };
    case 'keyPool': {
      const ledger = emptyLedger();
      configure(ledger, c.ledger, now);
      return { kind: 'keyPool', poolId: c.poolId, ledger };
    }
  }
}

/**
 * Applies a configuration to a carried state (continue-as-new, a restart): the limits are the caller's. A key
 * pool keeps the buckets other callers joined (`joinPolicy`); the ones `c` lists take its settings.
 */
export function reconfigure(s: PolicyState, c: PolicyConfig, now: number): void {
  if (s.kind === 'concurrency' && c.kind === 'concurrency') s.permits = c.permits;
  else if (s.kind === 'rateWindow' && c.kind === 'rateWindow')
    Object.assign(s, { perMinute: c.perMinute, perDay: c.perDay, spacingMs: c.spacingMs });
  else if (s.kind === 'tokenBucket' && c.kind === 'tokenBucket')
    Object.assign(s, { perSecond: c.perSecond, burst: c.burst, tokens: Math.min(s.tokens, c.burst) });
  else if (s.kind === 'keyPool' && c.kind === 'keyPool') {
    const listed = new Set(c.ledger.buckets.map((b) => b.id));
    const joined = s.ledger.buckets
      .filter((b) => !listed.has(b.id))
      .map((b) => ({
        id: b.id,
        unitsPerPeriod: b.unitsPerPeriod,
        reset: b.reset,
        keys: b.keys.map((k) => k.fingerprint),
      }));
    configure(s.ledger, { ...c.ledger, buckets: [...c.ledger.buckets, ...joined] }, now);
  } else throw new Error(`permit entity of kind ${s.kind} asked to be ${c.kind}`);
}

/** A policy's state carried from a run that was terminated: a key pool gives its removed keys another chance. */
export function recoverPolicy(s: PolicyState): void {
  if (s.kind === 'keyPool') recover(s.ledger);
}

/** Refuses a request the policy cannot price (an update validator: nothing reaches history). */
export function validateAsk(s: PolicyState, ask: { method?: string; calls?: number }): void {
  // A held permit needs its requester to renew and release it, which the update path has no way to do.
  if (!consumable(s))
    throw new Error(
      `a ${s.kind} permit is held until released: ask for it with permitAsk (the update path serves only ` +
        `grants consumed at once, a key pool's units or a token bucket's calls)`,
    );
  if (s.kind === 'tokenBucket') {
    const calls = ask.calls ?? 1;
    if (!Number.isInteger(calls) || calls < 1 || calls > s.burst)
      throw new Error(`a token bucket grants 1 to ${s.burst} calls at once (its burst), not ${calls}`);
  }
  if (s.kind === 'keyPool') validateReserve(s.ledger, { method: ask.method ?? '', calls: ask.calls ?? 1 });
}

/**
 * Refuses a caller's configuration that contradicts the running entity's (every run and worker of a limit
 * must agree; the last caller never flips it): a key pool's units, resets and costs, another kind or other
 * limits. What it only adds (a key pool's buckets, keys, methods) is fine.
 */
export function validateJoinPolicy(s: PolicyState, c: PolicyConfig, entityId: string): void {
  if (s.kind === 'keyPool' && c.kind === 'keyPool') return validateJoin(s.ledger, c.ledger, entityId);
  const same =
    (s.kind === 'concurrency' && c.kind === 'concurrency' && s.permits === c.permits) ||
    (s.kind === 'rateWindow' &&
      c.kind === 'rateWindow' &&
      s.perMinute === c.perMinute &&
      s.perDay === c.perDay &&
      s.spacingMs === c.spacingMs) ||
    (s.kind === 'tokenBucket' && c.kind === 'tokenBucket' && s.perSecond === c.perSecond && s.burst === c.burst);
  if (!same)
    throw new Error(
      `${LEDGER_CONFLICT}: permit entity ${entityId} is configured differently — ${JSON.stringify(c)} asked, it has ` +
        `${describePolicy(s, [])}. Give every run and worker of a limit the same settings.`,
    );
}

/** A caller's configuration joining the running entity's (validated by validateJoinPolicy). */
export function joinPolicy(s: PolicyState, c: PolicyConfig, now: number): void {
  if (s.kind === 'keyPool' && c.kind === 'keyPool') join(s.ledger, c.ledger, now);
}

/** Time passes: day and period roll-overs, the window forgets old releases. */
export function advance(s: PolicyState, now: number): void {
  if (s.kind === 'rateWindow') {
    const today = Math.floor(now / DAY_MS);
    if (today !== s.day) {
      s.day = today;
      s.usedToday = 0;
    }
    s.released = s.released.filter((t) => t > now - WINDOW_MS);
  } else if (s.kind === 'tokenBucket') {
    if (now > s.at) s.tokens = Math.min(s.burst, s.tokens + ((now - s.at) * s.perSecond) / 1000);
    s.at = Math.max(s.at, now);
  } else if (s.kind === 'keyPool') roll(s.ledger, now);
}

/**
 * May `ask` be granted at `now`, with `held` permits out? On `ok` the policy has counted the grant (the
 * entity grants at once; if the requester is gone it calls `released`).
 */
export function decide(s: PolicyState, ask: PermitAsk, held: PermitHolder[], now: number): Decision {
  switch (s.kind) {
    case 'concurrency':
      return held.length < s.permits
        ? { ok: true }
        : { ok: false, at: Infinity, why: () => `all ${s.permits} permits held: the next one when a holder releases` };
    case 'rateWindow': {
      const inWindow = held.length + s.released.length;
      const latest = rateWindowWait(s, inWindow, s.released.length ? Math.min(...s.released) : undefined);
      if (latest.at > now) return { ok: false, ...latest };
      s.undo = { lastGrantAt: s.lastGrantAt, peakInWindow: s.peakInWindow };
      s.lastGrantAt = now;
      s.usedToday++;
      s.peakInWindow = Math.max(s.peakInWindow, inWindow + 1);
      return { ok: true };
    }
    case 'tokenBucket': {
      advance(s, now);
      const calls = ask.calls ?? 1;
      if (s.blockedUntil > now)
        return {
          ok: false,
          at: s.blockedUntil,
          why: (w) => `next calls in ${w}: the API said to wait (a 429)`,
        };
      if (s.tokens >= calls) {
        s.tokens -= calls;
        s.calls += calls;
        return { ok: true };
      }
      const at = now + Math.ceil(((calls - s.tokens) * 1000) / s.perSecond);
      return {
        ok: false,
        at,
        why: (w) => `${calls} call(s) in ${w}: ${s.perSecond}/s on average, at most ${s.burst} at once`,
      };
    }
    case 'keyPool': {
      const r = reserve(
        s.ledger,
        { method: ask.method ?? '', calls: ask.calls ?? 1, requester: ask.requesterId },
        now,
        s.poolId,
      );
      if (r.kind === 'granted') return { ok: true, grant: { permit: r.permit } };
      if (r.kind === 'wait') return { ok: false, at: r.until, why: (w) => `${r.reason}: next in ${w}` };
      return { ok: false, at: Infinity, why: () => r.reason };
    }
  }
}

/** The counts a rate window decides by: the policy's state, and the limiter loop's it replaces. */
interface RateCounts {
  perMinute: number;
  perDay: number;
  spacingMs: number;
  lastGrantAt: number;
  blockedUntil: number;
  day: number;
  usedToday: number;
}

/**
 * When a rate window can grant next, and why not sooner (`at` Infinity: only a release frees a slot), given the
 * calls in the last 60 s (held and released) and the earliest release among them. Pure; its wording is what
 * the Web UI's timeline shows.
 */
export function rateWindowWait(
  s: RateCounts,
  inWindow: number,
  earliestRelease: number | undefined,
): { at: number; why: (w: string) => string } {
  const waits: { at: number; why: (w: string) => string }[] = [
    {
      at: s.lastGrantAt + s.spacingMs,
      why: (w) => `next permit in ${w}: calls are spaced ${formatDuration(s.spacingMs)} apart (${s.perMinute}/min)`,
    },
    {
      at: s.blockedUntil,
      why: (w) => `next permit in ${w}: the API said to wait (a 429, or 0 calls remaining) until its reset`,
    },
  ];
  if (s.usedToday >= s.perDay)
    waits.push({
      at: (s.day + 1) * DAY_MS,
      why: (w) =>
        `daily cap reached (${thousands(s.usedToday)} of ${thousands(s.perDay)} calls today): ` +
        `next permit at the reset, 00:00 UTC, in ${w}`,
    });
  if (inWindow >= s.perMinute)
    waits.push({
      at: earliestRelease !== undefined ? earliestRelease + WINDOW_MS + 1 : Infinity,
      why: (w) => `${s.perMinute}/min window full (${inWindow} calls in the last 60 s): next permit in ${w}`,
    });
  return waits.reduce((a, b) => (b.at > a.at ? b : a));
}

/** What the API said about a rate window (a 429's hold, its headers' counts) applied to its counts. Pure. */
export function observeRate(s: RateCounts, seen: PermitObservation): void {
  if (seen.blockUntil) s.blockedUntil = Math.max(s.blockedUntil, seen.blockUntil);
  // The API's own count can only make us more careful: other clients may share the token.
  if (seen.minuteRemaining === 0 && seen.minuteReset) s.blockedUntil = Math.max(s.blockedUntil, seen.minuteReset);
  if (seen.dayLimit !== undefined && seen.dayRemaining !== undefined && seen.dayReset) {
    if (Math.floor((seen.dayReset - 1) / DAY_MS) === s.day)
      s.usedToday = Math.max(s.usedToday, s.perDay - seen.dayRemaining);
    if (seen.dayRemaining === 0) s.blockedUntil = Math.max(s.blockedUntil, seen.dayReset);
  }
}

/** A grant that never reached its requester (it was gone): as if it had not been made. */
export function withdrawn(s: PolicyState, h: PermitHolder, now: number): void {
  if (s.kind === 'rateWindow') {
    s.usedToday = Math.max(0, s.usedToday - 1);
    if (s.undo) Object.assign(s, s.undo);
  }
  if (s.kind === 'keyPool' && h.grant?.permit) refund(s.ledger, { permit: h.grant.permit, callsUsed: 0 }, now);
}

/** Why an idle entity still runs, given the wait as text (its timer's summary). */
export function idleWhy(s: PolicyState, w: string): string {
  if (s.kind === 'rateWindow' && s.usedToday > 0)
    return `idle; keeps today's count (${thousands(s.usedToday)} of ${thousands(s.perDay)}) until the reset, in ${w}`;
  return `idle: ends in ${w} unless a run asks for a permit`;
}

/** A permit comes back (released, or reclaimed when its lease ran out), with what its call saw. */
export function released(s: PolicyState, h: PermitHolder, now: number, seen?: PermitObservation): void {
  if (s.kind === 'rateWindow') s.released.push(now);
  if (s.kind === 'keyPool' && h.grant?.permit)
    refund(s.ledger, { permit: h.grant.permit, callsUsed: seen?.callsUsed ?? h.grant.permit.calls }, now);
  if (seen) observe(s, seen, now);
}

/**
 * Whether a grant made on the update path is consumed at once rather than held: a key pool's units are spent
 * when granted (the calls not made come back with `returned`), so there is nothing to hold, renew or reclaim —
 * an activity that dies simply spent what it was granted.
 */
export const consumable = (s: PolicyState): boolean => s.kind === 'keyPool' || s.kind === 'tokenBucket';

/** What the API said, outside a release too (a 429 seen by a call, a key refused). */
export function observe(s: PolicyState, seen: PermitObservation, now: number): void {
  if (s.kind === 'rateWindow') {
    observeRate(s, seen);
  } else if (s.kind === 'tokenBucket') {
    // A 429: the API counts calls we did not (other clients of the account): an empty bucket after the hold.
    if (seen.blockUntil && seen.blockUntil > s.blockedUntil) {
      advance(s, now);
      s.blockedUntil = seen.blockUntil;
      s.tokens = 0;
      s.at = Math.max(s.at, seen.blockUntil);
    }
  } else if (s.kind === 'keyPool') {
    if (seen.returned) refund(s.ledger, seen.returned, now);
    if (seen.spent && s.ledger.buckets.some((b) => b.keys.some((k) => k.fingerprint === seen.spent)))
      markSpent(s.ledger, seen.spent, now);
    if (seen.invalid) markInvalid(s.ledger, seen.invalid.fingerprint, seen.invalid.reason, now);
  }
}

/** When the policy's state changes by itself next (a release leaves the window): the entity wakes then. */
export function nextChange(s: PolicyState): number {
  if (s.kind === 'rateWindow' && s.released.length) return Math.min(...s.released) + WINDOW_MS + 1;
  return Infinity;
}

/** The entity may not end before this instant although idle: what it counted must survive (today's calls). */
export function keepUntil(s: PolicyState): number {
  if (s.kind === 'rateWindow')
    return s.usedToday > 0 ? (s.day + 1) * DAY_MS : s.released.length ? Math.max(...s.released) + WINDOW_MS : 0;
  if (s.kind === 'keyPool')
    return s.ledger.buckets.some((b) => b.used > 0) ? Math.max(...s.ledger.buckets.map((b) => b.resetAt)) : 0;
  // Until the bucket is full again: a fresh entity would start full.
  if (s.kind === 'tokenBucket')
    return Math.max(s.blockedUntil, s.at + Math.ceil(((s.burst - s.tokens) * 1000) / s.perSecond));
  return 0;
}

/** One line of the policy's state for the Web UI. */
export function describePolicy(s: PolicyState, held: PermitHolder[]): string {
  switch (s.kind) {
    case 'concurrency':
      return `${held.length} of ${s.permits} held`;
    case 'rateWindow':
      return (
        `last 60 s: ${held.length + s.released.length} of ${s.perMinute} (peak ${s.peakInWindow}) · today: ` +
        `${thousands(s.usedToday)} of ${thousands(s.perDay)} (UTC day)`
      );
    case 'tokenBucket':
      return (
        `${Math.floor(s.tokens)} of ${s.burst} calls ready (${s.perSecond}/s) · ${thousands(s.calls)} granted` +
        (s.blockedUntil > s.at ? ' · held by a 429' : '')
      );
    case 'keyPool':
      return s.ledger.buckets
        .map(
          (b) =>
            `${b.id}: ${thousands(b.used)} of ${thousands(b.unitsPerPeriod)} units${b.spentUntil ? ' (spent)' : ''}`,
        )
        .join(' · ');
  }
}

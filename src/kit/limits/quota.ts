/**
 * The durable quota ledger's vocabulary (src/kit/limits/quota-ledger.ts): one entity workflow per API key
 * pool (`quota-ledger-youtube`, …) holding buckets of units per period. A bucket is what the provider
 * meters: for YouTube a Google Cloud project, shared by every key of that project. Keys appear here by
 * fingerprint only; activities map a fingerprint back to the key value from their configuration.
 * Definitions and types only: imported by workflows, activities and the client alike.
 */
import { defineQuery, defineUpdate } from '@temporalio/workflow';
import type { ResetRule } from './quota-reset';

export interface LedgerBucketConfig {
  /** The metered unit: a Google Cloud project id, an API token… */
  id: string;
  unitsPerPeriod: number;
  reset: ResetRule;
  /** Fingerprints of the keys that draw on this bucket. */
  keys: string[];
}

export interface LedgerConfig {
  buckets: LedgerBucketConfig[];
  /** Units per call, by method (`videos.list`: 1, `search.list`: 100 on YouTube's classic model). */
  costs: Record<string, number>;
  /**
   * A key reported spent this soon after its bucket's reset is probably a provider clock a little behind
   * ours: it is retried after `spentRetryMs` instead of being parked until the next reset.
   */
  resetGraceMs?: number;
  spentRetryMs?: number;
}

export interface KeyState {
  fingerprint: string;
  /** Set when the key was taken out of the pool (invalid, revoked): never handed out again. */
  invalid?: { reason: string; at: string };
  calls: number;
  units: number;
}

export interface BucketState {
  id: string;
  unitsPerPeriod: number;
  reset: ResetRule;
  /** Current period: [periodStart, resetAt) in epoch ms. */
  periodStart: number;
  resetAt: number;
  /** Units reserved (and not refunded) in the current period. */
  used: number;
  /** The provider said "quota exceeded": nothing is handed out before this instant (epoch ms). */
  spentUntil?: number;
  keys: KeyState[];
  /** Round-robin position among the bucket's keys. */
  nextKey: number;
}

export interface LedgerState {
  buckets: BucketState[];
  costs: Record<string, number>;
  resetGraceMs: number;
  spentRetryMs: number;
  /** Permits handed out so far (permit ids are `<ledger>-<n>`). */
  permits: number;
  /** Every key taken out of the pool, with why: what operators read. */
  removed: { fingerprint: string; bucket: string; reason: string; at: string }[];
  /** Updates handled by this run (continue-as-new resets it). */
  updates: number;
}

export interface ReserveRequest {
  method: string;
  /** Calls wanted; the permit may cover fewer (what the bucket has left), never fewer than `minCalls`. */
  calls: number;
  minCalls?: number;
  /** Who asks (workflow id): for logs and the state query. */
  requester?: string;
}

export interface Permit {
  id: string;
  bucket: string;
  fingerprint: string;
  method: string;
  calls: number;
  units: number;
  /** The period the units were taken from: a refund after a reset gives nothing back. */
  periodStart: number;
}

export type ReserveResult =
  | { kind: 'granted'; permit: Permit }
  /** Every usable bucket is spent: wait (durably) until `until` (epoch ms), then ask again. */
  | { kind: 'wait'; until: number; reason: string }
  /** No usable key is left at all (all invalid or none configured): waiting will not help. */
  | { kind: 'none'; reason: string };

export interface RefundRequest {
  permit: Permit;
  /** Calls actually made with the permit; the units of the others are given back. */
  callsUsed: number;
}

export const configureLedgerUpdate = defineUpdate<LedgerState, [LedgerConfig]>('quotaConfigure');
export const reserveUpdate = defineUpdate<ReserveResult, [ReserveRequest]>('quotaReserve');
export const refundUpdate = defineUpdate<void, [RefundRequest]>('quotaRefund');
/** The provider answered "quota exceeded" for this key: its bucket is spent until the next reset. */
export const markSpentUpdate = defineUpdate<{ until: number }, [{ fingerprint: string }]>('quotaMarkSpent');
/** The provider refused this key (invalid, revoked): it leaves the pool. */
export const markInvalidUpdate = defineUpdate<void, [{ fingerprint: string; reason: string }]>('quotaMarkInvalid');
export const ledgerStateQuery = defineQuery<LedgerState>('quotaLedgerState');

/**
 * What a ledger's validators answer while it drains before continuing as new: callers retry shortly (the
 * update then reaches the new run). Rejected updates leave no trace in history.
 */
export const LEDGER_DRAINING = 'LedgerDraining: the quota ledger is continuing as new, retry';

/** The ledger workflow ID for a pool: one ledger per API and pool, shared by every pipeline. */
export const ledgerWorkflowId = (pool: string) => `quota-ledger-${pool}`;

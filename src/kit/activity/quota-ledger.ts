/**
 * Activity-side handle on a pool's quota ledger: the permit entity (src/kit/limits/permits.ts) with the
 * `keyPool` policy, at the ID `quota-ledger-<pool>`, spoken to through the kit's PermitClient. `reserve`
 * asks for calls of a method (a key and its units, spent at once; or "wait until <reset>", or "no usable key"),
 * `refund` gives back the units of the calls a permit did not make, `markSpent` / `markInvalid`
 * report what the API said of a key. This worker's pool configuration (fingerprints only) joins the ledger's;
 * a contradicting one is a non-retryable QuotaLedgerConflict.
 * A pool still served by the older `quotaLedger` workflow is taken over: its state (today's usage, spent and
 * invalid keys) is read, it is ended, and the entity starts from that state.
 * Generic: the YouTube pipelines use it, and so can any pipeline whose API meters quota per key pool.
 */
import { ApplicationFailure } from '@temporalio/activity';
import type { Client } from '@temporalio/client';
import {
  ledgerStateQuery,
  type LedgerConfig,
  type LedgerState,
  type Permit,
  type ReserveRequest,
  type ReserveResult,
} from '../limits/quota';
import { PermitClient, type Takeover } from './permits';

/** A key pool's grants are consumed, not held (see `consumable`): the lease only names the entity's default. */
const LEASE_MS = 60 * 60_000;

/** A pool's ledger still run by the older `quotaLedger` workflow: its state, and it ends. */
const fromQuotaLedger: Takeover = async (client, described) => {
  if (described.type !== 'quotaLedger') return undefined;
  const handle = client.workflow.getHandle(described.workflowId);
  const ledger = await handle.query(ledgerStateQuery).catch(() => undefined);
  if (!ledger) return undefined;
  const running = described.status.name === 'RUNNING';
  if (running) await handle.terminate('the pool moved to the permit entity (its state carried)').catch(() => undefined);
  const poolId = described.workflowId;
  return {
    state: {
      policy: { kind: 'keyPool', poolId, ledger },
      holders: [],
      waiting: [],
      granted: ledger.permits,
      peakHeld: 0,
    },
    // A running ledger's settings hold, as they did for every caller; a stopped one's successor takes the
    // caller's (terminating a ledger was how an operator changed a pool's settings).
    ...(running ? { policy: { kind: 'keyPool' as const, poolId, ledger: configOf(ledger) } } : {}),
  };
};

/** The configuration a ledger's state carries. */
const configOf = (l: LedgerState): LedgerConfig => ({
  buckets: l.buckets.map((b) => ({
    id: b.id,
    unitsPerPeriod: b.unitsPerPeriod,
    reset: b.reset,
    keys: b.keys.map((k) => k.fingerprint),
  })),
  costs: l.costs,
  resetGraceMs: l.resetGraceMs,
  spentRetryMs: l.spentRetryMs,
});

export class QuotaLedgerClient {
  private readonly permits: PermitClient;

  constructor(
    client: Client,
    readonly ledgerId: string,
    taskQueue: string,
    config: LedgerConfig,
    /** Continue as new after this many events (tests). */
    historyLimit?: number,
  ) {
    this.permits = new PermitClient(
      client,
      ledgerId,
      taskQueue,
      {
        policy: { kind: 'keyPool', ledger: config, poolId: ledgerId },
        leaseMs: LEASE_MS,
        label: `quota ledger ${ledgerId}`,
        ...(historyLimit ? { historyLimit } : {}),
      },
      fromQuotaLedger,
    );
  }

  /** Called while an update is being retried (an activity heartbeats, so a long wait is not a dead worker). */
  set onRetry(f: (() => void) | undefined) {
    this.permits.onRetry = f;
  }

  async reserve(req: ReserveRequest): Promise<ReserveResult> {
    try {
      const r = await this.permits.try({
        requesterId: req.requester ?? 'activity',
        purpose: `${req.calls} × ${req.method}`,
        method: req.method,
        calls: req.calls,
      });
      if ('granted' in r) {
        const permit = r.granted.grant?.permit;
        if (!permit) throw new Error(`${this.ledgerId} granted no key: is it a key pool?`);
        return { kind: 'granted', permit };
      }
      return r.wait.until !== undefined
        ? { kind: 'wait', until: r.wait.until, reason: r.wait.why }
        : { kind: 'none', reason: r.wait.why };
    } catch (err) {
      if (err instanceof ApplicationFailure && err.type === 'PermitConflict')
        throw ApplicationFailure.nonRetryable(err.message, 'QuotaLedgerConflict');
      throw err;
    }
  }
  /** The units of the calls the permit did not make come back (nothing to send when it was used up). */
  refund(permit: Permit, callsUsed: number): Promise<void> {
    if (callsUsed >= permit.calls) return Promise.resolve();
    return this.permits.observe({ returned: { permit, callsUsed } });
  }
  markSpent(fingerprint: string): Promise<void> {
    return this.permits.observe({ spent: fingerprint });
  }
  markInvalid(fingerprint: string, reason: string): Promise<void> {
    return this.permits.observe({ invalid: { fingerprint, reason } });
  }
}

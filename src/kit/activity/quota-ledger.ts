/**
 * Activity-side handle on a durable quota ledger (src/kit/limits/quota-ledger.ts): makes sure the ledger
 * runs (started on first use, on the caller's task queue), pushes the pool configuration from this
 * worker's config (fingerprints only), and sends the reserve/refund/markSpent/markInvalid updates.
 * Generic: the YouTube enrichment uses it, and so can any pipeline whose API meters quota per key pool.
 */
import { ApplicationFailure } from '@temporalio/activity';
import { WorkflowExecutionAlreadyStartedError, WorkflowUpdateFailedError, type Client } from '@temporalio/client';
import { WorkflowNotFoundError } from '@temporalio/common';
import {
  configureLedgerUpdate,
  ledgerStateQuery,
  markInvalidUpdate,
  markSpentUpdate,
  refundUpdate,
  reserveUpdate,
  type LedgerConfig,
  type LedgerState,
  type Permit,
  type ReserveRequest,
  type ReserveResult,
} from '../limits/quota';
import { LEDGER_CONFLICT } from '../limits/quota-state';

const MAX_ATTEMPTS = 60;

/**
 * Updates this process has in flight to any ledger, at most MAX_IN_FLIGHT: the server admits only a few
 * in-flight updates per workflow (10 by default), and a crowd of refused updates only churns it.
 */
const MAX_IN_FLIGHT = 4;
let inFlight = 0;
const queue: (() => void)[] = [];
async function slot<R>(f: () => Promise<R>): Promise<R> {
  if (inFlight >= MAX_IN_FLIGHT) await new Promise<void>((r) => queue.push(r));
  else inFlight++;
  try {
    return await f();
  } finally {
    const next = queue.shift();
    if (next) next();
    else inFlight--;
  }
}

/** Ledgers this process has configured (by ledger, queue and configuration): configured once, not per call. */
const configuredLedgers = new Set<string>();

export class QuotaLedgerClient {
  private readonly configKey: string;

  constructor(
    private readonly client: Client,
    readonly ledgerId: string,
    private readonly taskQueue: string,
    private readonly config: LedgerConfig,
  ) {
    this.configKey = `${ledgerId}|${taskQueue}|${JSON.stringify(config)}`;
  }

  private get configured(): boolean {
    return configuredLedgers.has(this.configKey);
  }
  private set configured(v: boolean) {
    if (v) configuredLedgers.add(this.configKey);
    else configuredLedgers.delete(this.configKey);
  }

  /** Called while an update is being retried (an activity heartbeats, so a long wait is not a dead worker). */
  onRetry?: () => void;

  private handle() {
    return this.client.workflow.getHandle(this.ledgerId);
  }

  /**
   * The last state of a ledger that is not running (terminated, failed, timed out), to start its successor
   * from: today's usage must survive, or the new ledger would hand out units already spent. Undefined when
   * there is no such ledger or its state cannot be read.
   */
  private async predecessorState(): Promise<LedgerState | undefined> {
    try {
      const d = await this.handle().describe();
      if (d.status.name === 'RUNNING') return undefined;
      return await this.handle().query(ledgerStateQuery);
    } catch {
      return undefined;
    }
  }

  /**
   * Starts the ledger if it is not running — from its predecessor's last state when it was ended (terminated
   * mid-run: usage kept, this configuration taken) — and joins this worker's pool configuration. A
   * configuration that contradicts the running ledger's is refused: a non-retryable QuotaLedgerConflict.
   */
  async ensure(): Promise<void> {
    const state = await this.predecessorState();
    try {
      await this.client.workflow.start('quotaLedger', {
        workflowId: this.ledgerId,
        taskQueue: this.taskQueue,
        args: [state ? { config: this.config, state, recovered: true } : { config: this.config }],
      });
    } catch (err) {
      if (!(err instanceof WorkflowExecutionAlreadyStartedError)) throw err;
    }
    try {
      await this.handle().executeUpdate(configureLedgerUpdate, { args: [this.config] });
    } catch (err) {
      const message = err instanceof WorkflowUpdateFailedError ? String((err.cause as Error)?.message) : '';
      if (message.startsWith(LEDGER_CONFLICT)) throw ApplicationFailure.nonRetryable(message, 'QuotaLedgerConflict');
      throw err;
    }
    this.configured = true;
  }

  /**
   * Sends an update. A ledger that is not running is started; one that is continuing as new (its validators
   * answer LedgerDraining, or the server aborts the update as the run closes) or that has too many updates in
   * flight is asked again shortly, with jittered backoff.
   */
  private async send<R>(f: () => Promise<R>): Promise<R> {
    for (let attempt = 1; ; attempt++) {
      try {
        if (!this.configured) await slot(() => this.ensure());
        return await slot(f);
      } catch (err) {
        const text = `${String(err)} ${String((err as { cause?: unknown }).cause)}`;
        const gone = err instanceof WorkflowNotFoundError || /workflow execution already completed/i.test(text);
        const moving = text.includes('LedgerDraining') || /update was aborted/i.test(text);
        // The server admits a few in-flight updates per workflow (10 by default): back off with jitter.
        const crowded = /in-flight updates/i.test(text);
        if ((!gone && !moving && !crowded) || attempt >= MAX_ATTEMPTS) throw err;
        if (gone) this.configured = false;
        this.onRetry?.();
        const backoff = Math.min(50 * 2 ** Math.min(attempt, 6), 2000);
        await new Promise((r) => setTimeout(r, backoff / 2 + Math.random() * backoff));
      }
    }
  }

  reserve(req: ReserveRequest): Promise<ReserveResult> {
    return this.send(() => this.handle().executeUpdate(reserveUpdate, { args: [req] }));
  }
  refund(permit: Permit, callsUsed: number): Promise<void> {
    if (callsUsed >= permit.calls) return Promise.resolve();
    return this.send(() => this.handle().executeUpdate(refundUpdate, { args: [{ permit, callsUsed }] }));
  }
  markSpent(fingerprint: string): Promise<{ until: number }> {
    return this.send(() => this.handle().executeUpdate(markSpentUpdate, { args: [{ fingerprint }] }));
  }
  markInvalid(fingerprint: string, reason: string): Promise<void> {
    return this.send(() => this.handle().executeUpdate(markInvalidUpdate, { args: [{ fingerprint, reason }] }));
  }
}

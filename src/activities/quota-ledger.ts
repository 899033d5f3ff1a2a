/**
 * Activity-side handle on a durable quota ledger (src/workflows/quota-ledger.ts): makes sure the ledger
 * runs (started on first use, on the caller's task queue), pushes the pool configuration from this
 * worker's config (fingerprints only), and sends the reserve/refund/markSpent/markInvalid updates.
 * Generic: the YouTube enrichment uses it, and so can any pipeline whose API meters quota per key pool.
 */
import { WorkflowExecutionAlreadyStartedError, type Client } from '@temporalio/client';
import { WorkflowNotFoundError } from '@temporalio/common';
import {
  configureLedgerUpdate,
  markInvalidUpdate,
  markSpentUpdate,
  refundUpdate,
  reserveUpdate,
  type LedgerConfig,
  type Permit,
  type ReserveRequest,
  type ReserveResult,
} from '../shared/quota';

export class QuotaLedgerClient {
  private configured = false;

  constructor(
    private readonly client: Client,
    readonly ledgerId: string,
    private readonly taskQueue: string,
    private readonly config: LedgerConfig,
  ) {}

  private handle() {
    return this.client.workflow.getHandle(this.ledgerId);
  }

  /** Starts the ledger if it is not running and applies this worker's pool configuration. */
  async ensure(): Promise<void> {
    try {
      await this.client.workflow.start('quotaLedger', {
        workflowId: this.ledgerId,
        taskQueue: this.taskQueue,
        args: [{ config: this.config }],
      });
    } catch (err) {
      if (!(err instanceof WorkflowExecutionAlreadyStartedError)) throw err;
    }
    await this.handle().executeUpdate(configureLedgerUpdate, { args: [this.config] });
    this.configured = true;
  }

  /** Sends an update, starting (or restarting) the ledger when it is not running. */
  private async send<R>(f: () => Promise<R>): Promise<R> {
    if (!this.configured) await this.ensure();
    try {
      return await f();
    } catch (err) {
      const gone = err instanceof WorkflowNotFoundError || /workflow execution already completed/i.test(String(err));
      if (!gone) throw err;
      await this.ensure();
      return f();
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

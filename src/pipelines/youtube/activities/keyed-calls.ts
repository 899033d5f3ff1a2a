/**
 * YouTube calls on keys lent by the pool's quota ledger (src/kit/activity/quota-ledger.ts): the one ladder
 * both YouTube activities climb — reserve a permit (or be told to wait until a reset, or that no key is
 * usable), call with the permit's key, and on a spent quota or an invalid key give the call back, take the
 * key's project out (until its reset, or for good) and go on with another key; any other failure gives back
 * the permit's unused calls and becomes a Temporal failure.
 */
import { ApplicationFailure } from '@temporalio/activity';
import { YoutubeError } from '../connector/errors';
import type { YoutubeKey } from '../connector/keys';
import { toActivityFailure } from '../../../kit/activity/http';
import type { Permit } from '../../../kit/limits/quota';
import type { QuotaLedgerClient } from '../../../kit/activity/quota-ledger';

export type KeyedCall<T> =
  { kind: 'served'; value: T; fingerprint: string } | { kind: 'wait'; until: number; reason: string };

export interface KeyedCallsOptions {
  /** The API method the ledger prices (videos.list, search.list). */
  method: string;
  requester: string;
  /** Who cannot go on when no key is usable ("YouTube enrichment"). */
  who: string;
  warn: (message: string) => void;
  /** A call is about to be made with this key. */
  onCall?: (fingerprint: string) => void;
  /** A call was not served (quota spent, or the key invalid — with the reason recorded): not charged. */
  onNotServed?: (fingerprint: string, why: 'quota' | 'invalid', reason?: string) => void;
}

export class YoutubeKeyedCalls {
  private permit?: Permit;
  private used = 0;

  constructor(
    private readonly ledger: QuotaLedgerClient,
    private readonly keys: ReadonlyMap<string, YoutubeKey>,
    private readonly o: KeyedCallsOptions,
  ) {}

  /**
   * One call of `fn` with a lent key, climbing the ladder until it is served or the ledger says to wait.
   * `wanted` is how many calls a new permit asks for (the calls still to make).
   */
  async call<T>(wanted: number, fn: (key: string) => Promise<T>): Promise<KeyedCall<T>> {
    for (;;) {
      if (!this.permit || this.used >= this.permit.calls) {
        this.permit = undefined; // none yet, or used up: nothing to give back
        const r = await this.ledger.reserve({ method: this.o.method, calls: wanted, requester: this.o.requester });
        if (r.kind === 'none')
          throw ApplicationFailure.nonRetryable(`${this.o.who} cannot go on: ${r.reason}`, 'YoutubeNoUsableKey');
        if (r.kind === 'wait') return { kind: 'wait', until: r.until, reason: r.reason };
        this.permit = r.permit;
        this.used = 0;
      }
      const fp = this.permit.fingerprint;
      const key = this.keys.get(fp);
      if (!key) {
        await this.release();
        throw ApplicationFailure.retryable(`key ${fp} is not in this worker's YOUTUBE_API_KEYS`, 'YoutubeKeyUnknown');
      }
      this.used++;
      this.o.onCall?.(fp);
      try {
        return { kind: 'served', value: await fn(key.key), fingerprint: fp };
      } catch (err) {
        if (err instanceof YoutubeError && (err.kind === 'quotaExceeded' || err.kind === 'keyInvalid')) {
          // Not served, so not charged: give the call back, take the project out, ask the ledger again.
          this.used--;
          await this.release();
          if (err.kind === 'quotaExceeded') {
            this.o.onNotServed?.(fp, 'quota');
            await this.ledger.markSpent(fp); // parked until its Pacific-midnight reset
          } else {
            const reason = `${err.message} (project ${key.project})`;
            this.o.onNotServed?.(fp, 'invalid', reason);
            await this.ledger.markInvalid(fp, reason);
            this.o.warn(`YouTube key ${fp} of project ${key.project} taken out of the pool: ${err.message}`);
          }
          continue;
        }
        await this.release();
        throw toActivityFailure(err);
      }
    }
  }

  /** Gives the ledger back what the current permit did not use. */
  async release(): Promise<void> {
    const p = this.permit;
    this.permit = undefined;
    if (p) await this.ledger.refund(p, this.used);
  }
}

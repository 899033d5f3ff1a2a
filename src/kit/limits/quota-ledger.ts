/**
 * The older quota ledger, kept registered for the runs that still use it and its saved history: since 2026-12 a
 * pool's ledger is the permit entity with the key-pool policy (src/kit/activity/quota-ledger.ts), which takes
 * over a pool still run by this workflow on its first call. As it was: an entity workflow per API key pool (ID `quota-ledger-<pool>`) that every run
 * of every pipeline reserves units from before calling the API. Updates: configure, reserve (a key
 * fingerprint + permit, or "wait until <reset>"), refund, markSpent (the API said quotaExceeded), and
 * markInvalid (a bad key leaves the pool). The rules live in src/kit/limits/quota-state.ts. The ledger runs
 * as long as its pool is used (it must remember today's spending) and continues-as-new with its state
 * when the server suggests it.
 */
import { allHandlersFinished, condition, continueAsNew, setHandler, workflowInfo } from '@temporalio/workflow';
import {
  configureLedgerUpdate,
  ledgerStateQuery,
  markInvalidUpdate,
  markSpentUpdate,
  refundUpdate,
  reserveUpdate,
  LEDGER_DRAINING,
  type LedgerConfig,
  type LedgerState,
} from './quota';
import {
  configure,
  emptyLedger,
  join,
  markInvalid,
  markSpent,
  recover,
  refund,
  reserve,
  roll,
  validateJoin,
  validateReserve,
} from './quota-state';
import { workflowNow } from '../workflow';

export interface QuotaLedgerInput {
  config: LedgerConfig;
  /** Carried across continue-as-new (or from a terminated predecessor: `recovered`). */
  state?: LedgerState;
  /**
   * The state is the last one of a ledger that was terminated (or failed): the ledger keeps its usage and
   * takes `config` as its configuration (terminating a ledger is how an operator changes a pool's settings).
   */
  recovered?: boolean;
  /** Continue-as-new after this many updates even if the server has not suggested it (tests). */
  continueAsNewAfter?: number;
}

export async function quotaLedger(input: QuotaLedgerInput): Promise<void> {
  const ledgerId = workflowInfo().workflowId;
  const state = input.state ?? emptyLedger();
  state.updates = 0;
  if (input.recovered) recover(state);
  if (!input.state || input.recovered) configure(state, input.config, workflowNow());
  const counted = <T>(f: () => T): T => {
    state.updates++;
    return f();
  };
  // Before continuing as new, the ledger stops admitting updates (callers retry, reaching the next run), so
  // the run can close with every handler finished even under constant traffic.
  let draining = false;
  const open = () => {
    if (draining) throw new Error(LEDGER_DRAINING);
  };

  setHandler(ledgerStateQuery, () => state);
  // A caller's configuration joins the ledger's: what it adds is added, a contradiction is refused by the
  // validator (LedgerConflict, nothing in history) — the last caller never flips the pool's settings.
  // (Histories recorded before replay with this handler too: it changes state only, never commands.)
  setHandler(configureLedgerUpdate, (config) => counted(() => (join(state, config, workflowNow()), state)), {
    validator: (config) => (open(), validateJoin(state, config, ledgerId)),
  });
  setHandler(reserveUpdate, (req) => counted(() => reserve(state, req, workflowNow(), ledgerId)), {
    validator: (req) => (open(), validateReserve(state, req)),
  });
  setHandler(refundUpdate, (req) => counted(() => refund(state, req, workflowNow())), {
    validator: (_req) => open(),
  });
  setHandler(markSpentUpdate, ({ fingerprint }) => counted(() => markSpent(state, fingerprint, workflowNow())), {
    validator: ({ fingerprint }) => {
      open();
      if (!state.buckets.some((b) => b.keys.some((k) => k.fingerprint === fingerprint)))
        throw new Error(`unknown key ${fingerprint}`);
    },
  });
  setHandler(
    markInvalidUpdate,
    ({ fingerprint, reason }) => counted(() => markInvalid(state, fingerprint, reason, workflowNow())),
    { validator: (_req) => open() },
  );

  const limit = input.continueAsNewAfter;
  await condition(() => workflowInfo().continueAsNewSuggested || (limit !== undefined && state.updates >= limit));
  draining = true;
  await condition(allHandlersFinished);
  roll(state, workflowNow());
  await continueAsNew<typeof quotaLedger>({ config: input.config, state, continueAsNewAfter: limit });
}

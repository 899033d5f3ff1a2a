/**
 * One report window of the `dailymotion-report` pipeline, as a child workflow (a failed window reruns
 * alone): take one of the account's report slots, ask the report, poll it on durable timers with
 * exponential backoff, give the slot back once it stops generating, then download and load it. A report
 * that FAILED, EXPIRED or whose links are gone is asked again, a bounded number of times.
 */
import {
  ActivityFailure,
  ApplicationFailure,
  getExternalWorkflowHandle,
  log,
  patched,
  sleep,
} from '@temporalio/workflow';
import type { DailymotionActivities } from '../activities/report';
import type { DailymotionReportParams, WindowResult } from '../definition';
import { windowStateSignal, type WindowState } from '../shared';
import type { DateWindow } from '../../../shared/dates';
import { formatDuration } from '../../../shared/durations';
import { describedActivities, ProgressTracker, tail, workflowNow } from '../../../kit/workflow';
import { SLOT_RENEW, SlotRequester, slotPermits, type SlotHolder } from '../../../kit/limits/slots';

const api = describedActivities<DailymotionActivities>({
  startToCloseTimeout: '2 minutes',
  retry: { initialInterval: '2s', backoffCoefficient: 2, maximumInterval: '2 minutes', maximumAttempts: 10 },
});
const loader = describedActivities<DailymotionActivities>({
  // Large reports take a while to download and load; the heartbeat shows the activity is alive.
  startToCloseTimeout: '1 hour',
  heartbeatTimeout: '2 minutes',
  retry: { initialInterval: '5s', backoffCoefficient: 2, maximumInterval: '5 minutes', maximumAttempts: 5 },
});

export interface ReportWindowInput {
  params: Pick<
    DailymotionReportParams,
    | 'metrics'
    | 'dimensions'
    | 'product'
    | 'filters'
    | 'table'
    | 'writeMode'
    | 'poll'
    | 'maxAsks'
    | 'maxConcurrentReports'
    | 'slotLease'
  > & { maxBadRows?: number; fromLanded?: boolean };
  window: DateWindow;
  index: number;
  /** Fingerprint of the partner account: the semaphore is per account. */
  account: string;
  parentId?: string;
}

type Final = 'FINISHED' | 'FAILED' | 'EXPIRED';

/** The patch that moved the window's report slots onto the kit's one requester (`Permits`, via `slotPermits`). */
export const WINDOW_SLOTS_ON_PERMITS = 'longhaul-dailymotion-slots-on-permits';

/**
 * A report slot's lease (without `slotLease`): 30 minutes, renewed every 10, a waiting window asking again
 * every 10. A report keeps generating at Dailymotion whatever becomes of the window that asked it, so a dead
 * window's slot freed after 10 minutes rather than 30 freed nothing at the API — while a worker outage of
 * more than 7 minutes lost a live window's slot, and each window woke every 3 minutes of its hours of
 * holding and waiting. Windows begun before the patch (`WINDOW_REPORT_SLOT_LEASE`) keep `SLOT_RENEW`.
 */
export const REPORT_SLOT_LEASE = { leaseMs: 30 * 60_000, renewMs: 10 * 60_000, reaskMs: 10 * 60_000 };
export const WINDOW_REPORT_SLOT_LEASE = 'longhaul-dailymotion-report-slot-lease-30m';

export async function dailymotionReportWindow(input: ReportWindowInput): Promise<WindowResult> {
  const { params, window } = input;
  const label = `${window.start}..${window.end}`;
  const progress = new ProgressTracker('dailymotion-report-window', 'asks', params.maxAsks);
  // Windows begun before the patch keep the requester they started with.
  const onPermits = patched(WINDOW_SLOTS_ON_PERMITS);
  const semaphore = {
    renew: params.slotLease
      ? { leaseMs: params.slotLease.lease, renewMs: params.slotLease.renew, reaskMs: params.slotLease.reask }
      : onPermits && patched(WINDOW_REPORT_SLOT_LEASE)
        ? REPORT_SLOT_LEASE
        : SLOT_RENEW,
    semaphoreId: `semaphore-dailymotion-reports-${input.account}`,
    permits: params.maxConcurrentReports,
    leaseMs: params.poll.budget + 30 * 60_000,
    what: `report slot (at most ${params.maxConcurrentReports} generating, account ${tail(input.account)})`,
    // Windows of both default leases share the account's semaphore while a deploy rolls out: one that restarts
    // it after an abnormal end waits for the slower renewal of the two (an activity's input, not a command).
    ...(params.slotLease ? {} : { recoverMs: Math.max(SLOT_RENEW.renewMs, REPORT_SLOT_LEASE.renewMs) + 60_000 }),
  };
  const slots: SlotHolder = onPermits ? slotPermits(semaphore, progress) : new SlotRequester(semaphore);
  const tell = async (state: WindowState, detail?: string) => {
    progress.set({ phase: state });
    if (!input.parentId) return;
    await getExternalWorkflowHandle(input.parentId)
      .signal(windowStateSignal, { index: input.index, state, detail })
      .catch(() => undefined); // the parent may be gone; the window's own work goes on
  };

  const waitForReport = async (token: string, ask: number): Promise<Final> => {
    const deadline = workflowNow() + params.poll.budget;
    let delay = params.poll.initialDelay;
    for (let poll = 1; ; poll++) {
      const status = await api(`poll ${poll} of report ${label} (ask ${ask}/${params.maxAsks})`).reportStatus(token);
      if (status !== 'IN_PROGRESS') return status as Final;
      if (workflowNow() + delay > deadline) {
        throw ApplicationFailure.nonRetryable(
          `report for ${label} still generating after ${formatDuration(params.poll.budget)} (poll budget)`,
          'ReportTimeout',
        );
      }
      progress.set({
        phase: 'generating',
        waiting: { reason: 'report generating', until: new Date(workflowNow() + delay).toISOString() },
      });
      await sleep(delay, {
        summary: `report ${label} still generating: poll ${poll + 1} in ${formatDuration(delay)}`,
      });
      delay = Math.min(delay * params.poll.factor, params.poll.maxDelay);
    }
  };

  // What every ask and load is about: the report's definition and its window; where its rows go.
  const report = {
    metrics: params.metrics,
    dimensions: params.dimensions,
    product: params.product,
    filters: params.filters,
    window,
  };
  const into = { table: params.table, writeMode: params.writeMode, maxBadRows: params.maxBadRows };

  if (params.fromLanded) {
    // A reload: the files an earlier run landed, no report slot, no API call.
    await tell('downloading and loading');
    const loaded = await loader(
      `load report ${label} into ${params.table} from its landed files (${params.writeMode})`,
    ).loadLandedReport({ ...report, ...into });
    await tell('done');
    progress.set({ done: params.maxAsks, phase: 'done' });
    progress.finish(`${loaded.rowsLoaded} rows loaded for ${label} from ${loaded.files} landed file(s), no ask`);
    return { start: window.start, end: window.end, reportsAsked: 0, ...loaded };
  }

  let lastProblem = '';
  for (let ask = 1; ask <= params.maxAsks; ask++) {
    progress.set({ done: ask - 1 });
    await tell('waiting for report slot');
    const slot = await slots.acquire(`report ${label}, ask ${ask}/${params.maxAsks}`);
    let token: string;
    let status: Final;
    try {
      await tell('generating');
      token = await api(`ask report ${label} (ask ${ask}/${params.maxAsks})`).askReport({
        ...report,
        ask, // with this run, the key of the ask's record: a retried attempt reuses its token
      });
      progress.add('reportsAsked');
      status = await waitForReport(token, ask);
    } finally {
      await slots.release(slot);
    }
    if (status !== 'FINISHED') {
      lastProblem = `report ${status}`;
      log.warn('report did not finish; asking again', { window: label, status, ask });
      continue;
    }
    await tell('downloading and loading');
    try {
      const loaded = await loader(
        `download and load report ${label} into ${params.table} (${params.writeMode})`,
      ).loadReport({ reportToken: token, ...report, ...into });
      await tell('done');
      progress.set({ done: ask, phase: 'done' });
      progress.finish(`${loaded.rowsLoaded} rows loaded for ${label} from ${loaded.files} file(s), ${ask} ask(s)`);
      return { start: window.start, end: window.end, reportsAsked: ask, ...loaded };
    } catch (err) {
      const cause = err instanceof ActivityFailure ? err.cause : undefined;
      if (cause instanceof ApplicationFailure && cause.type === 'ReportLinkGone') {
        lastProblem = cause.message;
        log.warn('report files gone before they were read; asking again', { window: label, ask });
        continue;
      }
      throw err;
    }
  }
  await tell('failed', lastProblem);
  progress.finish(`failed after ${params.maxAsks} ask(s): ${lastProblem}`);
  throw ApplicationFailure.nonRetryable(
    `report for ${label} failed ${params.maxAsks} time(s): ${lastProblem}`,
    'ReportFailed',
  );
}

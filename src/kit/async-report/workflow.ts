/**
 * The durable part of a declarative async-report source (spec.ts): the range in windows, each window's report
 * asked, polled on durable timers with backoff, and loaded — under the account's report slots (a kit semaphore
 * shared by every run and worker) and its rate window (a kit limiter: every create and status call takes a
 * permit). A failed or expired report is asked again, at most `spec.recreate` times. Waits of hours, worker
 * kills and reruns are Temporal's to survive: a create retried after a lost answer sends the same idempotency
 * key, a load replaces its window in one transaction. With `fromLanded` every window is loaded from the files an
 * earlier run landed, without a slot or a call. Workflow-safe.
 */
import {
  ActivityFailure,
  ApplicationFailure,
  continueAsNew,
  proxyActivities,
  sleep,
  workflowInfo,
} from '@temporalio/workflow';
import type { AsyncReportSpec } from './spec';
import { activityNames, pollDelay, REPORT_EXPIRED } from './spec';
import type { AsyncReportInput, AsyncReportResult } from './pipeline';
import { asyncReportInput, optionsOf } from './pipeline';
import type { RequestPermitInput } from '../activity/permits';
import type { ReportStatus, LoadedReport } from '../activity/async-report';
import { ProgressTracker, tail, validateInput, workflowNow } from '../workflow';
import { pool } from '../pool';
import { Permits } from '../limits/permit-requester';
import { splitWindows, type DateWindow } from '../../shared/dates';
import { formatDuration } from '../../shared/durations';

/** The activities of one source, by the kit's names (activityNames). */
interface SourceCalls {
  account(): Promise<string>;
  create(input: { window: DateWindow; options: Record<string, unknown>; idempotencyKey: string }): Promise<string>;
  status(reportId: string): Promise<ReportStatus>;
  load(input: {
    reportId: string;
    links: string[];
    window: DateWindow;
    options: Record<string, unknown>;
  }): Promise<LoadedReport>;
  loadLanded(input: { window: DateWindow; options: Record<string, unknown> }): Promise<LoadedReport>;
  requestPermit(input: RequestPermitInput): Promise<void>;
}

function sourceCalls(spec: AsyncReportSpec, summary: string, long = false): SourceCalls {
  const names = activityNames(spec.name);
  const a = proxyActivities<Record<string, (...args: unknown[]) => Promise<unknown>>>({
    summary,
    // The source's activities heartbeat: an attempt on a worker that died is retried within the heartbeat
    // timeout, not at the end of its start-to-close (a permit request finishes well within it).
    ...(long
      ? { startToCloseTimeout: '1 hour', heartbeatTimeout: '30 seconds' }
      : { startToCloseTimeout: '2 minutes', heartbeatTimeout: '10 seconds' }),
    retry: { initialInterval: '2s', backoffCoefficient: 2, maximumInterval: '2 minutes', maximumAttempts: 10 },
  });
  return {
    account: () => a[names.account]() as Promise<string>,
    create: (i) => a[names.create](i) as Promise<string>,
    status: (id) => a[names.status](id) as Promise<ReportStatus>,
    load: (i) => a[names.load](i) as Promise<LoadedReport>,
    loadLanded: (i) => a[names.loadLanded](i) as Promise<LoadedReport>,
    requestPermit: (i) => a.requestPermit(i) as Promise<void>,
  };
}

/** What a run hands the next across continue-as-new (the input stays the user's). */
interface Carried {
  account: string;
  windows: DateWindow[];
  totals: AsyncReportResult;
}

/** The workflow of a source: export it from the API folder's `workflows/index.ts` under the pipeline's type. */
export function asyncReportWorkflow(spec: AsyncReportSpec) {
  const schema = asyncReportInput(spec);
  const call = (summary: string, long = false) => sourceCalls(spec, summary, long);
  const { label } = spec;

  return async function asyncReport(raw: AsyncReportInput, carried?: Carried): Promise<AsyncReportResult> {
    const input = validateInput(schema, raw);
    const windows = carried?.windows ?? splitWindows(input.from, input.to, input.windowDays);
    const totals: AsyncReportResult = carried?.totals ?? {
      from: input.from,
      to: input.to,
      table: spec.table.name,
      windows: 0,
      reports: 0,
      recreated: 0,
      rows: 0,
      files: 0,
    };
    // A reload takes no slot and makes no call: it needs no account (nor its token).
    const account =
      carried?.account ?? (input.fromLanded ? 'none' : await call(`identify the ${label} account`).account());
    const progress = new ProgressTracker(workflowInfo().workflowType, 'windows', totals.windows + windows.length);
    progress.set({ done: totals.windows, phase: 'reports' });

    // The account's two limits, each a permit entity shared by every run and worker: report slots (held
    // while a report generates, leases renewed) and the rate window every create and status call goes through.
    const request = (i: RequestPermitInput, summary: string) => call(summary).requestPermit(i);
    const slots = new Permits(
      {
        entityId: `permits-${spec.name}-reports-${account}`,
        entity: {
          policy: { kind: 'concurrency', permits: spec.limits.concurrentReports },
          leaseMs: 10 * 60_000,
          label: `${label} report slots (account ${tail(account)})`,
        },
        what: `${label} report slot`,
        renewMs: 3 * 60_000,
        request,
      },
      workflowInfo().workflowId,
      progress,
    );
    const calls = new Permits(
      {
        entityId: `permits-${spec.name}-calls-${account}`,
        entity: {
          policy: {
            kind: 'rateWindow',
            perMinute: spec.limits.perMinute,
            perDay: spec.limits.perDay,
            spacingMs: Math.ceil(60_000 / spec.limits.perMinute) + 50,
          },
          leaseMs: 15 * 60_000,
          label: `${label} calls (${spec.limits.perMinute}/min, account ${tail(account)})`,
        },
        what: `${label} call permit`,
        request,
      },
      workflowInfo().workflowId,
      progress,
    );
    /** One API call under a rate permit (released even when the call fails). */
    const limited = <T>(purpose: string, fn: () => Promise<T>): Promise<T> => calls.withPermit(purpose, fn);

    /** A window loaded: its rows and files counted. */
    const loadedWindow = (loaded: LoadedReport) => {
      totals.rows += loaded.rows;
      totals.files += loaded.files;
      totals.windows++;
      progress.set({ done: totals.windows });
    };

    /**
     * Asks, polls and loads one window's report (or loads it again from its landing: `fromLanded`); a failed or
     * expired report is asked again.
     */
    const runWindow = async (w: DateWindow): Promise<void> => {
      const what = `${w.start}..${w.end}`;
      if (input.fromLanded) {
        // A reload: the files an earlier run landed, no report slot, no API call.
        loadedWindow(
          await call(`load the ${label} report ${what} from its landed files`, true).loadLanded({
            window: w,
            options: optionsOf(spec, input),
          }),
        );
        return;
      }
      const attempts = (spec.recreate ?? 2) + 1;
      for (let generation = 0; generation < attempts; generation++) {
        if (generation > 0) totals.recreated++;
        const slot = await slots.acquire(`report ${what}`);
        let ready: { reportId: string; links: string[] } | undefined;
        let why = '';
        try {
          const reportId = await limited(`create the report ${what}`, () =>
            call(`create the ${label} report ${what}`).create({
              window: w,
              options: optionsOf(spec, input),
              // The same key for every retry of this create: a lost answer never makes a second report.
              idempotencyKey: `${workflowInfo().runId}/${what}/${generation}`,
            }),
          );
          totals.reports++;
          const started = workflowNow();
          for (let n = 0; ; n++) {
            const delay = pollDelay(
              input.pollEvery
                ? { ...spec.poll, firstMs: input.pollEvery, maxMs: Math.max(spec.poll.maxMs, input.pollEvery) }
                : spec.poll,
              n,
            );
            await sleep(delay, {
              summary: `${label} report ${what} generating: check again in ${formatDuration(delay)}`,
            });
            const s = await limited(`status of ${what}`, () =>
              call(`status of the ${label} report ${what}`).status(reportId),
            );
            if (s.state === 'ready') {
              ready = { reportId, links: s.links };
              break;
            }
            if (s.state !== 'pending') {
              why = `${s.state}${s.error ? `: ${s.error}` : ''}`;
              break;
            }
            if (workflowNow() - started > spec.poll.giveUpMs) {
              why = `still generating after ${formatDuration(spec.poll.giveUpMs)}`;
              break;
            }
          }
        } finally {
          await slots.release(slot.requestId); // the slot counts reports generating, not downloads
        }
        if (ready) {
          try {
            loadedWindow(
              await call(`load the ${label} report ${what} (${ready.links.length} files)`, true).load({
                ...ready,
                window: w,
                options: optionsOf(spec, input),
              }),
            );
            return;
          } catch (err) {
            const cause = err instanceof ActivityFailure ? err.cause : undefined;
            if (!(cause instanceof ApplicationFailure) || cause.type !== REPORT_EXPIRED) throw err;
            why = 'its files expired before the download';
          }
        }
        progress.add('recreated');
        if (generation + 1 === attempts)
          throw ApplicationFailure.nonRetryable(
            `${label} report ${what} ${why}; asked ${attempts} times, giving up on this window`,
            'ReportFailed',
          );
      }
    };

    // At most windowsPerRun per run, then continue as new with the rest (history stays small at any range).
    const batch = windows.slice(0, input.windowsPerRun);
    await pool(batch, spec.limits.concurrentReports, runWindow);
    const rest = windows.slice(batch.length);
    if (rest.length) {
      await continueAsNew<typeof asyncReport>(raw, { account, windows: rest, totals });
    }
    progress.set({ phase: 'done' });
    progress.finish(`${totals.rows} rows in ${totals.windows} windows → ${spec.table.name}`);
    return totals;
  };
}

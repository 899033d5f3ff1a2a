/**
 * The kit's async-report load lands each report file in the bucket as received before it reads it (Acme's
 * sandbox, the activities under MockActivityEnvironment): the landing holds the files the API served and a
 * manifest; a retried attempt — its first one's completion lost — downloads nothing and leaves the same rows;
 * and once the API's files have expired, the load still reads the landing. The warehouse's own CSV reader
 * loads them (DuckDB here). `--from-landed` loads the newest landing without the API.
 */
import zlib from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { MockActivityEnvironment } from '@temporalio/testing';
import { createAsyncReportActivities, type LoadedReport, type ReportStatus } from '../../src/kit/activity/async-report';
import { activityNames } from '../../src/kit/async-report/spec';
import { acmeReports } from '../../src/pipelines/acme/definition';
import { acmeSandbox } from '../../src/pipelines/acme/sandbox';
import { AcmeSandbox } from '../../src/pipelines/acme/sandbox/server';
import { liveAttempt } from '../helpers/activity';
import { stoppedAfterEach } from '../helpers/lifetimes';
import { testDeps } from '../helpers/temporal';

const names = activityNames(acmeReports.name);
const attempt = (n: number) =>
  new MockActivityEnvironment({
    attempt: n,
    ...liveAttempt(),
    workflowExecution: { workflowId: 'w', runId: 'r' },
  } as never);
type Act = (...args: never[]) => Promise<unknown>;

describe('async-report load: raw landing', () => {
  const stopLater = stoppedAfterEach();

  it('lands the files as served, loads them once, and a retry or an expired report reads the landing', async () => {
    const sandbox = stopLater(
      new AcmeSandbox({ seed: 5, generationMs: 0, rowsPerFile: 40, fileTtlMs: 60_000, tokens: ['t1'] }),
    );
    const base = await sandbox.start();
    const deps = testDeps({ ...acmeSandbox.env(base), ACME_TOKEN: 't1' });
    const acts = createAsyncReportActivities(acmeReports)(deps) as unknown as Record<string, Act>;
    const call = async <T>(name: string, n: number, arg: unknown): Promise<T> =>
      (await attempt(n).run(acts[name] as never, arg as never)) as T;
    const window = { start: '2026-01-01', end: '2026-01-07' };
    const options = { attribution: '7d' };
    const reportId = await call<string>(names.create, 1, { window, options, idempotencyKey: 'k1' });
    const status = await call<ReportStatus>(names.status, 1, reportId);
    expect(status.state).toBe('ready');
    expect(status.links.length).toBeGreaterThan(1);
    const input = { reportId, links: status.links, window, options };
    const expected = sandbox.rowsFor(window.start, window.end, '7d');
    const stored = async () => (await deps.warehouse.select(acmeReports.table)).length;
    const downloads = () => sandbox.log.filter((e) => e.route === 'file' && e.status === 200).length;

    const first = await call<LoadedReport>(names.load, 1, input);
    expect(first).toMatchObject({ rows: expected.length, files: status.links.length });
    expect(first.bytes).toBeGreaterThan(0);
    expect(downloads()).toBe(status.links.length);
    // The landing: every file gzipped as served, and a manifest listing them.
    const objects = (await deps.bucket.list('landed/acme/acme_campaign_daily/2026-01-01_2026-01-07/')).map(
      (o) => o.key,
    );
    const parts = objects.filter((k) => /\/part-\d{5}\.csv\.gz$/.test(k)).sort();
    expect(parts).toHaveLength(status.links.length);
    expect(objects.filter((k) => k.endsWith('/manifest.json'))).toHaveLength(1);
    const landedLines = (
      await Promise.all(parts.map(async (k) => zlib.gunzipSync(await deps.bucket.get(k)).toString()))
    ).flatMap((t) => t.trim().split('\n').slice(1));
    expect(landedLines).toHaveLength(expected.length);

    // The first attempt's completion was lost: the retry finds the files landed and downloads none.
    const retry = await call<LoadedReport>(names.load, 2, input);
    expect(retry).toMatchObject({ rows: expected.length, bytes: 0 });
    expect(downloads()).toBe(status.links.length);
    expect(await stored()).toBe(expected.length);

    // The API's files expire; the landing still loads.
    sandbox.clock.advance(120_000);
    const gone = await fetch(new URL(status.links[0]!, `${base}/`), { headers: { authorization: 'Bearer t1' } });
    expect(gone.status).toBe(410);
    const late = await call<LoadedReport>(names.load, 3, input);
    expect(late.rows).toBe(expected.length);
    expect(downloads()).toBe(status.links.length);
    expect(await stored()).toBe(expected.length);

    // --from-landed: the newest landing of the window and options, no report, no API call at all.
    const calls = sandbox.log.length;
    const reloaded = await call<LoadedReport>(names.loadLanded, 1, { window, options });
    expect(reloaded).toEqual({ rows: expected.length, files: status.links.length, bytes: 0 });
    expect(sandbox.log.length).toBe(calls);
    expect(await stored()).toBe(expected.length);
    // Other options never landed: refused, naming where it looked.
    const none = await call(names.loadLanded, 1, { window, options: { attribution: '28d' } }).catch((e: unknown) => e);
    expect(none).toMatchObject({ type: 'NotLanded', nonRetryable: true });
    expect(String((none as Error).message)).toMatch(
      /no landed Acme Ads report for 2026-01-01\.\.2026-01-07 .*under landed\/acme\//,
    );
    await deps.warehouse.close();
  });

  it('a merge table folds the rows its key repeats, and the load does not take the fold for lost rows', async () => {
    const sandbox = stopLater(
      new AcmeSandbox({ seed: 7, generationMs: 0, rowsPerFile: 40, fileTtlMs: 60_000, tokens: ['t1'] }),
    );
    const base = await sandbox.start();
    const deps = testDeps({ ...acmeSandbox.env(base), ACME_TOKEN: 't1' });
    // One row per campaign and attribution: the report's days fold into the last one read.
    const spec = {
      ...acmeReports,
      table: {
        ...acmeReports.table,
        name: 'acme_campaign_latest',
        primaryKey: ['campaign_id', 'attribution'],
        write: { kind: 'merge' as const },
      },
    };
    const acts = createAsyncReportActivities(spec)(deps) as unknown as Record<string, Act>;
    const call = async <T>(name: string, arg: unknown): Promise<T> =>
      (await attempt(1).run(acts[name] as never, arg as never)) as T;
    const window = { start: '2026-01-01', end: '2026-01-07' };
    const options = { attribution: '7d' };
    const reportId = await call<string>(names.create, { window, options, idempotencyKey: 'k-merge' });
    const status = await call<ReportStatus>(names.status, reportId);
    const served = sandbox.rowsFor(window.start, window.end, '7d') as { campaign_id: string }[];
    const campaigns = new Set(served.map((r) => r.campaign_id)).size;
    expect(campaigns).toBeLessThan(served.length); // the key does repeat in the report

    const loaded = await call<LoadedReport>(names.load, { reportId, links: status.links, window, options });
    expect(loaded.rows).toBe(campaigns);
    expect(await deps.warehouse.select(spec.table)).toHaveLength(campaigns);
    await deps.warehouse.close();
  });
});

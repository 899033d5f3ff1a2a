/**
 * `longhaul simulate` (issue #19): the pipelines' real workflow code on a time-skipping test server of its own,
 * against their sandboxes set up with the user's limits. Each simulation is checked against what the
 * arithmetic of its limits predicts — not against another run of the same code:
 *   - youtube-enrich, 631,348 IDs, one project of 10,000 units a day, started at 08:00 Pacific: the plan says two
 *     quota days; the run spends exactly 10,000 units on the first Pacific day, waits once until its midnight,
 *     and ends on the second with the other 2,627 calls;
 *   - dailymotion-report over 3 years in 37 windows, 2-hour reports, 2 slots: 19 rounds, each the report's
 *     generation up to the first poll that finds it ready (the default poll schedule), and no more than 2
 *     reports generating at once;
 *   - datorama-process through the `longhaul` command: never more than 60 calls in any virtual minute;
 *   - titelive against the API's rate (scaled down): with the workers' shared rate under it, not one 429, every
 *     product, at the pace that rate allows; without it, 429s waited out durably — and still every product.
 * The wall time of each is printed (the closing note's figures).
 */
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config';
import { simulate, type SimulationReport } from '../../src/dev/simulate';
import { PIPELINES } from '../../src/pipelines';
import { buildInput } from '../../src/cli/run';
import { nextReset, pacificDay } from '../../src/kit/limits/quota-reset';
import { planEnrichment } from '../../src/pipelines/youtube/plan';
import type { YoutubeEnrichResult } from '../../src/pipelines/youtube/enrich';
import type { DailymotionReportResult } from '../../src/pipelines/dailymotion/definition';
import type { TiteliveResult } from '../../src/pipelines/titelive/definition';
import { longhaul } from '../helpers/bad-input';
import { tmpDir } from '../helpers/temporal';

const HOUR = 3_600_000;
const PACIFIC = { kind: 'pacific-midnight' } as const;

const run = (name: string, flags: string[], api: string[], extra: Partial<Parameters<typeof simulate>[0]> = {}) => {
  const pipeline = PIPELINES[name];
  const input = buildInput(pipeline, {}, flags);
  return simulate({ pipeline, input, api, config: parseConfig({}), ...extra });
};

const said = (r: SimulationReport) =>
  console.log(
    `[simulate] ${r.pipeline}: ${(r.virtualMs / HOUR).toFixed(2)} h of virtual time in ${(r.wallMs / 1000).toFixed(1)} s of wall time`,
  );

describe('longhaul simulate', () => {
  it('youtube-enrich: 631,348 IDs on one project of 10,000 units ends on the second quota day, as planned', async () => {
    const N = 631_348;
    const dir = tmpDir('longhaul-simulate-in-');
    // Distinct 11-character IDs (base 36, padded).
    const lines = ['song'];
    for (let i = 0; i < N; i++) lines.push(`v${i.toString(36).padStart(10, '0')}`);
    fs.writeFileSync(path.join(dir, 'playlog.csv'), lines.join('\n') + '\n');
    // 08:00 Pacific on the next Pacific day: a known time, in the future.
    const start = nextReset(PACIFIC, Date.now()) + 8 * HOUR;
    const plan = planEnrichment({ distinctIds: N, projects: 1, unitsPerDay: 10_000, costPerCall: 1 });
    expect(plan).toMatchObject({ calls: 12_627, days: 2 });

    const r = await run('youtube-enrich', ['--csv', 'playlog.csv'], ['projects=1', 'unitsPerDay=10000'], {
      at: start,
      config: parseConfig({ LONGHAUL_INPUT_DIR: dir }),
    });
    said(r);
    expect(r.status, r.error).toBe('completed');
    const result = r.result as YoutubeEnrichResult;
    expect(result.fetched + result.missing).toBe(N);
    expect(result).toMatchObject({ calls: plan.calls, quotaWaits: 1 });

    // The first Pacific day's 10,000 units, then the rest after its midnight; the run ends on the second day.
    const day1 = pacificDay(start);
    const reset = nextReset(PACIFIC, start);
    const day2 = pacificDay(reset);
    const usage = r.usage as { byProject: Record<string, { byDay: Record<string, number> }> };
    expect(usage.byProject['sim-project-1'].byDay).toEqual({ [day1]: 10_000, [day2]: plan.calls - 10_000 });
    expect(Date.parse(r.virtualStart)).toBeGreaterThanOrEqual(start);
    expect(pacificDay(Date.parse(r.virtualEnd))).toBe(day2);
    const quota = r.timeline.waits.filter((w) => w.reason === 'quota reset');
    expect(quota).toHaveLength(1);
    expect(quota[0].endMs).toBeGreaterThanOrEqual(reset);
    expect(quota[0].endMs).toBeLessThan(reset + 60_000);
    expect(r.scaled.join(' ')).toMatch(/ID only/);
  });

  it('dailymotion-report: 3 years with 2-hour reports and 2 slots takes the rounds the arithmetic predicts', async () => {
    const r = await run(
      'dailymotion-report',
      ['--metrics', 'VIEWS', '--dimensions', 'DAY,VIDEO_ID', '--start-date', '2023-01-01', '--end-date', '2025-12-31'],
      ['generationTime=2h', 'maxConcurrent=2'],
    );
    said(r);
    expect(r.status, r.error).toBe('completed');
    const result = r.result as DailymotionReportResult;
    const windows = Math.ceil(1096 / 30);
    expect(result.windows).toHaveLength(windows);
    // A round: the report generating, found ready by the first poll after 2 h (10 s, ×1.5, at most 5 min).
    let found = 0;
    for (let delay = 10_000; found < 2 * HOUR; delay = Math.min(delay * 1.5, 300_000)) found += delay;
    const rounds = Math.ceil(windows / 2);
    expect(rounds).toBe(19);
    // Each round also downloads and loads, and hands the slot over: seconds.
    expect(r.virtualMs).toBeGreaterThanOrEqual(rounds * found);
    expect(r.virtualMs).toBeLessThan(rounds * (found + 30_000));
    expect(r.usage).toMatchObject({ reportsAsked: windows, finished: windows, peakGenerating: 2 });
    expect(r.timeline.waitsByReason['report generation'].totalMs).toBeGreaterThan(rounds * 2 * HOUR);
  });

  it('datorama-process (the command, --json): never more than 60 calls in any virtual minute', async () => {
    const streams = Array.from({ length: 10 }, (_, i) => 10_001 + i).join(',');
    const out = await longhaul(
      [
        'simulate',
        'datorama-process',
        '--streams',
        streams,
        '--start',
        '2025-01-01',
        '--end',
        '2025-03-31',
        '--batch-size',
        '1',
        '--json',
      ],
      { LONGHAUL_DATA_DIR: tmpDir() },
      240_000,
    );
    expect(out.code, out.stderr).toBe(0);
    const r = JSON.parse(out.stdout) as SimulationReport;
    said(r);
    expect(r.status).toBe('completed');
    expect(r.calls.byRoute.process.answered).toBe(90); // 10 streams × 9 ten-day chunks
    expect(r.calls.busiestMinute.calls).toBeLessThanOrEqual(60);
    expect(r.calls.busiestMinute.calls).toBeGreaterThan(40); // held back by the limit, not idle
    expect(r.virtualMs).toBeGreaterThan(60_000); // 90 calls cannot fit in one minute
    expect(r.timeline.waitsByReason['rate window'].count).toBeGreaterThan(0);
  });

  it("titelive: under the API's rate with the workers' shared rate; 429s waited out without it — every product either way", async () => {
    const since = new Date(Date.now() - 61 * 86_400_000).toISOString().slice(0, 10);
    const flags = [
      '--category',
      'LIVRE',
      '--min-modified-date',
      since,
      '--results-per-page',
      '25',
      '--images',
      'false',
    ];
    // The API's measured rate scaled down (14 in any second, 6/s sustained), the workers' at 5/s.
    const api = ['books=2000', 'music=0', 'peakPerSecond=14', 'sustainedPerSecond=6', 'reserve=40', 'clientBurst=5'];
    const paced = await run('titelive', flags, [...api, 'clientPerSecond=5']);
    said(paced);
    expect(paced.status, paced.error).toBe('completed');
    const result = paced.result as TiteliveResult;
    expect(result.products).toBe(2000);
    const searches = paced.usage.searches as number;
    expect(searches).toBeGreaterThanOrEqual(80); // 2,000 products, 25 a page
    expect(paced.usage.refusedForTheRate).toBe(0);
    expect(paced.virtualMs).toBeGreaterThanOrEqual(((searches - 5) / 5) * 1000 * 0.9); // the pace 5/s allows
    // the pace is kept inside the extract activities: their waits are in the timeline
    expect(paced.timeline.waitsByReason['rate window']?.totalMs).toBeGreaterThan(0);

    // Without the workers' rate: the API refuses, the run waits the 429s out on durable timers, loses nothing.
    const unpaced = await run('titelive', flags, [...api, 'clientPerSecond=0']);
    said(unpaced);
    expect(unpaced.status, unpaced.error).toBe('completed');
    expect((unpaced.result as TiteliveResult).products).toBe(2000);
    expect(unpaced.usage.refusedForTheRate).toBeGreaterThan(0);
    expect(unpaced.timeline.waitsByReason['Retry-After'].count).toBeGreaterThan(0);
  });
});

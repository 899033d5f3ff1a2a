/** `longhaul simulate`: the report of a simulation (src/dev/simulate.ts) for people. */
import type { SimulationReport } from '../dev/simulate';
import type { Wait } from '../dev/timeline';
import { formatDuration } from '../shared/durations';

const span = (ms: number) => (ms <= 0 ? '0s' : formatDuration(ms));
const thousands = (n: number) => n.toLocaleString('en-US');

/** Consecutive waits of one workflow for one reason (a report's polls, back to back) as one line. */
export function mergeWaits(waits: readonly Wait[]): (Wait & { count: number })[] {
  const out: (Wait & { count: number })[] = [];
  const last = new Map<string, Wait & { count: number }>();
  for (const w of [...waits].sort((a, b) => a.startMs - b.startMs)) {
    const key = `${w.workflowId}\u0000${w.reason}`;
    const prev = last.get(key);
    if (prev && w.startMs - prev.endMs < 1000) {
      prev.endMs = Math.max(prev.endMs, w.endMs);
      prev.count++;
      continue;
    }
    const m = { ...w, count: 1 };
    out.push(m);
    last.set(key, m);
  }
  return out;
}

export function renderSimulation(r: SimulationReport, maxLines = 40): string {
  const t0 = Date.parse(r.virtualStart);
  const at = (ms: number) => `+${span(ms - t0)}`;
  const lines: string[] = [];
  lines.push(
    r.status === 'completed'
      ? `Simulated ${r.pipeline}: completed after ${span(r.virtualMs)} of virtual time (${(r.wallMs / 1000).toFixed(1)} s of wall time)`
      : `Simulated ${r.pipeline}: FAILED after ${span(r.virtualMs)} of virtual time: ${r.error}`,
    `  virtual clock: ${r.virtualStart} → ${r.virtualEnd}`,
  );
  if (r.finishIfStartedNow) lines.push(`  started now for real, it would end about ${r.finishIfStartedNow}`);
  if (r.summary) lines.push(`  result: ${r.summary}`);

  type Row = { at: number; text: string };
  const all: Row[] = [
    ...r.timeline.marks.map((m) => ({ at: m.atMs, text: m.what })),
    ...r.timeline.phases.map((p) => ({
      at: p.startMs,
      text: `${p.activity} × ${thousands(p.count)}${p.retries ? ` (${p.retries} retries)` : ''}, until ${at(p.endMs)}`,
    })),
    ...mergeWaits(r.timeline.waits).map((w) => ({
      at: w.startMs,
      // Merged: the first one's words up to their particulars ("report … still generating: poll 2 in 10s").
      text:
        `wait ${span(w.endMs - w.startMs)} (${w.reason}${w.count > 1 ? `, ${w.count} in a row` : ''}): ` +
        (w.count > 1 ? w.detail.split(':')[0] : w.detail),
    })),
  ].sort((a, b) => a.at - b.at);
  // The same line at the same second (two windows starting together) once, with its count.
  const rows: (Row & { n: number })[] = [];
  for (const row of all) {
    const prev = rows.find((x) => x.text === row.text && Math.abs(x.at - row.at) < 1000);
    if (prev) prev.n++;
    else rows.push({ ...row, n: 1 });
  }
  lines.push('', 'Timeline (virtual time from the start):');
  const width = Math.max(...rows.slice(0, maxLines).map((x) => at(x.at).length), 4) + 2;
  for (const row of rows.slice(0, maxLines))
    lines.push(`  ${at(row.at).padEnd(width)}${row.text}${row.n > 1 ? ` (× ${row.n})` : ''}`);
  if (rows.length > maxLines) lines.push(`  … ${rows.length - maxLines} more lines (--json has every one)`);

  lines.push('', 'Waits by reason:');
  const reasons = Object.entries(r.timeline.waitsByReason).sort((a, b) => b[1].totalMs - a[1].totalMs);
  if (!reasons.length) lines.push('  none');
  for (const [reason, w] of reasons)
    lines.push(`  ${reason}: ${thousands(w.count)} wait${w.count > 1 ? 's' : ''}, ${span(w.totalMs)} in all`);
  lines.push(
    '',
    `Peak concurrency: ${r.timeline.peakActivities.count} activities at once (${at(r.timeline.peakActivities.atMs)})`,
  );
  const c = r.calls;
  lines.push(
    '',
    `API calls: ${thousands(c.total)} (` +
      Object.entries(c.byRoute)
        .map(([route, x]) => {
          const errs = Object.entries(x.errors).map(([st, n]) => `${thousands(n)} × HTTP ${st === '0' ? 'none' : st}`);
          return `${route} ${thousands(x.answered)}${errs.length ? ` of which ${errs.join(', ')}` : ''}`;
        })
        .join('; ') +
      `); busiest minute ${thousands(c.busiestMinute.calls)} calls` +
      (c.busiestMinute.from ? ` (from ${c.busiestMinute.from})` : '') +
      `, busiest UTC day ${thousands(c.busiestUtcDay.calls)}` +
      (Object.keys(c.faultsInjected).length
        ? `; faults injected: ${Object.entries(c.faultsInjected)
            .map(([k, n]) => `${k} × ${n}`)
            .join(', ')}`
        : ''),
  );
  lines.push('', 'API usage (as the sandbox saw it):');
  for (const l of JSON.stringify(r.usage, null, 1).split('\n').slice(1, -1)) lines.push(` ${l.replace(/"/g, '')}`);
  lines.push(
    '',
    'API set-up: ' +
      Object.entries(r.api)
        .map(([k, v]) => `${k}=${String(v)}`)
        .join(' '),
  );
  lines.push('Scaled:', ...r.scaled.map((s) => `  - ${s}`));
  lines.push('', r.dataDir ? `Kept: the warehouse and bucket in ${r.dataDir}` : `Worker log: ${r.log}`);
  return lines.join('\n');
}

/** The progress line: virtual time passing, the run's phase, wall time. */
export function progressText(p: { virtualMs: number; wallMs: number; phase?: string }): string {
  return `virtual +${span(p.virtualMs)} · wall ${(p.wallMs / 1000).toFixed(0)} s${p.phase ? ` · ${p.phase}` : ''}`;
}

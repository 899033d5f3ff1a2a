/**
 * Named points in activity code where the chaos suite can kill the worker at the most dangerous moment
 * (e.g. after the warehouse committed but before the activity's completion reached Temporal, or after an
 * action's claim was written but before the API call). Inert unless `LONGHAUL_CHAOS_POINTS` is set, which
 * only the chaos harness does, for the first worker process of a run:
 *
 *   LONGHAUL_CHAOS_POINTS="dailymotion.load.after-commit=1,datorama.call.after-claim=2"
 *
 * kills this process with SIGKILL the 1st time the first point is reached and the 2nd time the second one is.
 * Each time a point fires it writes one line to `LONGHAUL_CHAOS_POINTS_LOG` (if set) first, so the harness can
 * prove the aimed fault really happened.
 */
import fs from 'node:fs';

let plan: Map<string, number> | undefined;
const seen = new Map<string, number>();

function parse(raw: string | undefined): Map<string, number> {
  const out = new Map<string, number>();
  for (const part of (raw ?? '').split(',')) {
    const [name, n] = part.trim().split('=');
    if (!name) continue;
    const at = n === undefined ? 1 : Number(n);
    if (!Number.isInteger(at) || at < 1) throw new Error(`LONGHAUL_CHAOS_POINTS: "${part}" needs name=N (N ≥ 1)`);
    out.set(name, at);
  }
  return out;
}

/** Kills the process here if the chaos plan says so (no-op otherwise). */
export function chaosPoint(name: string): void {
  plan ??= parse(process.env.LONGHAUL_CHAOS_POINTS);
  const at = plan.get(name);
  if (at === undefined) return;
  const n = (seen.get(name) ?? 0) + 1;
  seen.set(name, n);
  if (n !== at) return;
  const log = process.env.LONGHAUL_CHAOS_POINTS_LOG;
  if (log) fs.appendFileSync(log, `${new Date().toISOString()} ${process.pid} ${name}#${n}\n`);
  process.kill(process.pid, 'SIGKILL');
}

/** Points the code defines, for the harness and docs/chaos.md (kept in step with the calls). */
export const CHAOS_POINTS = [
  'dailymotion.ask.after-call',
  'dailymotion.load.after-landing',
  'dailymotion.load.after-commit',
  'datorama.call.after-claim',
  'datorama.call.after-call',
  'datorama.reconcile.after-record',
  'youtube.fetch.after-write',
  'titelive.extract.after-write',
  'async-report.create.after-call',
  'async-report.load.after-landing',
  'async-report.load.after-commit',
] as const;

/** Shows a run's progress: a live bar on a terminal, plain lines otherwise (CI, SSH without a TTY). */
import cliProgress from 'cli-progress';
import type { PipelineDef } from '../pipelines/types';
import { stableHash } from '../pipelines/types';
import { isRelativeDay, resolveDate } from '../shared/dates';
import { formatDuration } from '../shared/durations';
import type { Progress } from '../shared/messages';

export function describeProgress(p: Progress): string {
  const counters = Object.entries(p.counters)
    .map(([k, v]) => `${k}=${v}`)
    .join(' ');
  const wait = p.waiting ? ` — waiting: ${p.waiting.reason}${p.waiting.until ? ` until ${p.waiting.until}` : ''}` : '';
  return `${p.phase} ${p.done}/${p.total} ${p.unit}${counters ? ` (${counters})` : ''}${wait}`;
}

export interface ProgressView {
  update(p: Progress): void;
  stop(): void;
}

export function progressView(stream: NodeJS.WriteStream = process.stderr): ProgressView {
  if (!stream.isTTY) {
    let last = '';
    return {
      update: (p) => {
        const line = describeProgress(p);
        if (line !== last) stream.write(`${new Date().toISOString()} ${line}\n`);
        last = line;
      },
      stop: () => undefined,
    };
  }
  const bar = new cliProgress.SingleBar(
    { format: '{bar} {value}/{total} {unit} | {phase}', stream, hideCursor: true, clearOnComplete: false },
    cliProgress.Presets.shades_classic,
  );
  let started = false;
  return {
    update: (p) => {
      const payload = { unit: p.unit, phase: p.phase + (p.waiting ? ` — ${p.waiting.reason}` : '') };
      if (!started) {
        bar.start(Math.max(p.total, 1), p.done, payload);
        started = true;
      } else {
        bar.setTotal(Math.max(p.total, 1));
        bar.update(p.done, payload);
      }
    },
    stop: () => started && bar.stop(),
  };
}

/** What the client writes on a run at start: the Web UI's summary and details, and the memo. */
export interface RunDescription {
  /** One line: "Dailymotion report 2026-01-01 → 2026-03-31 (4 windows of 30 days), account …ab12". */
  summary: string;
  /** A few Markdown lines: the input's main fields. */
  details: string;
  /** Stable fingerprint of the validated input (the same input gives the same fingerprint). */
  fingerprint: string;
}

type Input = Record<string, unknown>;
const list = (v: unknown, max = 4): string => {
  const a = Array.isArray(v) ? v.map(String) : [String(v)];
  return a.length > max ? `${a.slice(0, max).join(', ')} +${a.length - max}` : a.join(', ');
};
const days = (a: string, b: string) => Math.round((Date.parse(b) - Date.parse(a)) / 86_400_000) + 1;

/** Per pipeline, the one line a person needs to recognise a run; undefined → the generic line. */
const SUMMARIES: Record<string, (i: Input, account?: string) => string> = {
  selftest: (i) =>
    `Selftest "${String(i.label)}": durable timer of ${formatDuration(Number(i.sleep))}, then a row + an object`,
  'dailymotion-report': (i, account) => {
    // Relative days (a schedule's `yesterday`) span the same number of days whichever day a run starts.
    const now = Date.now();
    const n = days(resolveDate(String(i.startDate), now), resolveDate(String(i.endDate), now));
    const windows = Math.ceil(n / Number(i.windowDays));
    const relative = isRelativeDay(String(i.startDate)) || isRelativeDay(String(i.endDate));
    return (
      `Dailymotion report ${String(i.startDate)} → ${String(i.endDate)}${relative ? ' (UTC days of each run)' : ''} ` +
      `(${windows} window${windows > 1 ? 's' : ''} of ${Number(i.windowDays)} days) into ${String(i.table)}` +
      `${account ? `, account …${account.slice(-4)}` : ''}`
    );
  },
  titelive: (i) =>
    `Titelive ${String(i.category)} ${i.incremental ? 'incremental (from the high-water mark)' : `from ${String(i.minModifiedDate)}`}` +
    `${i.maxModifiedDate ? ` to ${String(i.maxModifiedDate)}` : ''}${i.images === false ? ', no images' : ''}`,
  'youtube-enrich': (i) =>
    `YouTube details for ${i.csv ? `${String(i.csv)} (column ${String(i.column)})` : `${(i.ids as unknown[]).length} IDs`}` +
    `${i.limit ? `, first ${Number(i.limit)}` : ''}${i.dryRun ? ' — dry run (plan only)' : ` → ${String(i.table)}`}`,
  'youtube-watch': (i) =>
    `YouTube watcher for "${String(i.query)}": every ${Number(i.intervalSeconds)} s` +
    `${i.backfillFrom ? `, back to ${String(i.backfillFrom)}` : ''} → the videos store`,
  'datorama-process': (i) => {
    const ranges = (i.ranges as unknown[] | undefined)?.length ?? 0;
    const streams = (i.streams as unknown[] | undefined)?.length ?? 0;
    return (
      `Datorama process ${[
        streams ? `${streams} stream(s) ${String(i.start)} → ${String(i.end)}` : '',
        ranges ? `${ranges} stream range(s)` : '',
      ]
        .filter(Boolean)
        .join(' + ')} in chunks of ${Number(i.dRange)} days` +
      `${i.workspaceThrottle ? `, at most ${Number(i.workspaceThrottle)} jobs running per workspace` : ''}`
    );
  },
  'datorama-rerun': (i) => {
    const jobs = i.jobs as { stream: number }[];
    return `Datorama rerun of ${jobs.length} job(s) in ${new Set(jobs.map((j) => j.stream)).size} stream(s)`;
  },
  'datorama-rerun-all': (i) => `Datorama rerun of every job of ${(i.streams as unknown[]).length} stream(s)`,
  'datorama-rename': (i) =>
    i.undo
      ? `Datorama undo of run ${String(i.undo)}`
      : `Datorama rename of ${(i.renames as unknown[]).length} stream(s)`,
  'datorama-patch': (i) =>
    i.undo
      ? `Datorama undo of run ${String(i.undo)}`
      : i.patches
        ? `Datorama patch of ${(i.patches as unknown[]).length} stream(s)`
        : `Datorama patch of ${(i.streams as unknown[]).length} stream(s): ${Object.keys(i.fields as object).join(', ')}`,
  'datorama-collect': (i) =>
    `Datorama metadata of ${i.workspaces ? `${(i.workspaces as unknown[]).length} workspace(s)` : 'every workspace'}: ` +
    `workspaces, streams${i.jobs ? `, jobs (pages of ${Number(i.pageSize)})` : ''}` +
    `${i.maxCalls ? `, at most ${Number(i.maxCalls)} job calls` : ''}`,
};

/** The run's description from its validated input; `account` is the API account fingerprint when known. */
export function describeRun(pipeline: PipelineDef, input: unknown, account?: string): RunDescription {
  const i = (input && typeof input === 'object' ? input : {}) as Input;
  const scalar = Object.entries(i).filter(([, v]) => v !== undefined && (typeof v !== 'object' || Array.isArray(v)));
  const generic = () =>
    `${pipeline.name}: ${
      scalar
        .slice(0, 4)
        .map(([k, v]) => `${k} ${list(v)}`)
        .join(', ') || pipeline.description
    }`;
  const summary = SUMMARIES[pipeline.name]?.(i, account) ?? generic();
  const fields = [
    ...scalar.map(([k, v]) => `- ${k}: ${list(v, 12)}`),
    ...(account ? [`- account: …${account.slice(-4)}`] : []),
  ];
  const details = `**${pipeline.name}** — ${pipeline.description}\n\n${fields.join('\n')}`;
  return { summary: summary.length > 200 ? `${summary.slice(0, 199)}…` : summary, details, fingerprint: stableHash(i) };
}

/** Shows a run's progress: a live bar on a terminal, plain lines otherwise (CI, SSH without a TTY). */
import cliProgress from 'cli-progress';
import type { PipelineDef } from '../pipelines/types';
import { stableHash } from '../pipelines/types';
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
  const summary = pipeline.describeInput?.(input, account) ?? generic();
  const fields = [
    ...scalar.map(([k, v]) => `- ${k}: ${list(v, 12)}`),
    ...(account ? [`- account: …${account.slice(-4)}`] : []),
  ];
  const details = `**${pipeline.name}** — ${pipeline.description}\n\n${fields.join('\n')}`;
  return { summary: summary.length > 200 ? `${summary.slice(0, 199)}…` : summary, details, fingerprint: stableHash(i) };
}

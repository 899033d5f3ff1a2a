/** Shows a run's progress: a live bar on a terminal, plain lines otherwise (CI, SSH without a TTY). */
import cliProgress from 'cli-progress';
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

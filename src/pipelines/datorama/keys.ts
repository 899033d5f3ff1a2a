/**
 * Datorama action keys: the one place they are built and read. A key names one unit of work a run records
 * (datorama_actions) and a rerun of the same workflow ID skips once done; the strings are stored in the
 * warehouse, so their shape never changes:
 *
 * - `p:<stream>:<start>:<end>` — process a stream over a date range;
 * - `r:<stream>:<job>` — rerun one job;
 * - `ra:<stream>` — rerun all of a stream's jobs;
 * - `u:<stream>` — update (patch or rename) a stream;
 * - `c:<stream>` — a stream's jobs collected; and the job log's collect calls: `c:workspaces`,
 *   `c:ws:<workspace>`, `c:<stream>:page:<page>`, `c:<stream>:config`.
 *
 * Workflow-safe (pure).
 */

/** One platform call's actions (a call to process several streams carries one action per stream). */
export type SubmitAction =
  | { kind: 'process'; streams: number[]; start: string; end: string }
  | { kind: 'rerun'; stream: number; jobs: number[] }
  | { kind: 'rerun-all'; stream: number }
  | { kind: 'patch'; stream: number; fields: Record<string, unknown>; previous: Record<string, unknown> };

export const actionKey = {
  process: (stream: number, start: string, end: string) => `p:${stream}:${start}:${end}`,
  rerun: (stream: number, job: number) => `r:${stream}:${job}`,
  rerunAll: (stream: number) => `ra:${stream}`,
  update: (stream: number) => `u:${stream}`,
  collected: (stream: number) => `c:${stream}`,
  collectWorkspaces: () => 'c:workspaces',
  collectStreams: (workspace: number) => `c:ws:${workspace}`,
  collectPage: (stream: number, page: number) => `c:${stream}:page:${page}`,
  collectModel: (what: string, workspace: number) => `c:ws:${workspace}:${what}`,
  collectConfig: (stream: number) => `c:${stream}:config`,
};

/** The stream a key names (NaN for the collect calls that name none: `c:workspaces`, `c:ws:<id>`). */
export const streamOfKey = (key: string): number => Number(key.split(':')[1]);

/** The job a rerun key (`r:<stream>:<job>`) names. */
export const jobOfKey = (key: string): number => Number(key.split(':')[2]);

/** One key per action of a call, with its stream: the unit a rerun skips once it succeeded. */
export function actionKeys(a: SubmitAction): { key: string; stream: number }[] {
  switch (a.kind) {
    case 'process':
      return a.streams.map((s) => ({ key: actionKey.process(s, a.start, a.end), stream: s }));
    case 'rerun':
      return a.jobs.map((j) => ({ key: actionKey.rerun(a.stream, j), stream: a.stream }));
    case 'rerun-all':
      return [{ key: actionKey.rerunAll(a.stream), stream: a.stream }];
    case 'patch':
      return [{ key: actionKey.update(a.stream), stream: a.stream }];
  }
}

/** The action narrowed to the given keys (their streams, or their jobs); other kinds have one key. */
export function restrictAction(a: SubmitAction, keys: string[]): SubmitAction {
  if (a.kind === 'process') return { ...a, streams: keys.map(streamOfKey) };
  if (a.kind === 'rerun') return { ...a, jobs: keys.map(jobOfKey) };
  return a;
}

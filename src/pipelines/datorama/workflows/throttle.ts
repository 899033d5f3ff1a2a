/**
 * The workspace throttle of process, rerun and rerun-all (`workspaceThrottle`): do not submit to a workspace
 * while it has that many jobs PENDING or IN_PROGRESS — as the API counts them (`processStatsCounts` of the
 * workspace's stream listing: every submitter's jobs, every stream of the workspace), plus the jobs this run
 * submitted since that count. A run maps its streams to workspaces first (1 call, then one per workspace until
 * every stream is found; that listing gives each workspace's first count), waits on a durable timer while a
 * workspace is at its limit and counts again after each wait (one call). Before it (process only, patch
 * THROTTLE_PATCH), the count was of this run's own jobs on the streams it had touched.
 */
import { sleep } from '@temporalio/workflow';
import { formatDuration } from '../../../shared/durations';
import { workflowNow, type ProgressTracker } from '../../../kit/workflow';
import type { DatoramaRun } from './runner';

export const THROTTLE_PATCH = 'datorama-throttle-workspace-pending';

export class WorkspaceThrottle {
  private readonly workspaceOf = new Map<number, number>();
  /** Per workspace: the API's count at the last look, and our jobs submitted since. */
  private readonly seen = new Map<number, { pending: number; ours: number }>();

  constructor(
    private readonly run: DatoramaRun,
    private readonly progress: ProgressTracker,
    private readonly limit: number,
    private readonly pollMs: number,
  ) {}

  /** Finds the workspace of every stream given (and each one's first count). */
  async map(streams: number[]): Promise<void> {
    const wanted = new Set(streams);
    this.run.setPhase('mapping streams to workspaces (workspace throttle)');
    const ws = await this.run.withPermit('list workspaces', (ctx, calls) =>
      calls.datoramaCollectCall({ ...ctx, what: 'workspaces' }),
    );
    for (const w of ws.workspaces ?? []) {
      if ([...wanted].every((s) => this.workspaceOf.has(s))) break;
      await this.look(w);
    }
  }

  /** The workspace of a stream (undefined: no workspace listed it; such a stream is not throttled). */
  of(stream: number): number | undefined {
    return this.workspaceOf.get(stream);
  }

  /** Waits while the workspace has `limit` jobs or more pending or running. */
  async before(ws: number | undefined): Promise<void> {
    if (ws === undefined) return;
    for (let n = this.count(ws); n >= this.limit; n = this.count(ws)) {
      this.progress.set({
        phase: `workspace ${ws} has ${n} jobs pending or running (throttle ${this.limit})`,
        waiting: { reason: 'workspace throttle', until: new Date(workflowNow() + this.pollMs).toISOString() },
      });
      await sleep(this.pollMs, {
        summary:
          `Datorama: workspace ${ws} has ${n} jobs pending or running (throttle ${this.limit}): ` +
          `count them again in ${formatDuration(this.pollMs)}`,
      });
      await this.look(ws);
      this.run.estimated++;
    }
  }

  /** Jobs this run just submitted to the workspace (counted until the next look includes them). */
  submitted(ws: number | undefined, jobs: number): void {
    const s = ws === undefined ? undefined : this.seen.get(ws);
    if (s) s.ours += jobs;
  }

  private count(ws: number): number {
    const s = this.seen.get(ws);
    return s ? s.pending + s.ours : 0;
  }

  /** One call: the workspace's streams and their pending or running jobs, as the API counts them. */
  private async look(ws: number): Promise<void> {
    const r = await this.run.withPermit(`jobs pending or running in workspace ${ws} (throttle)`, (ctx, calls) =>
      calls.datoramaWorkspacePending({ ...ctx, workspaceId: ws }),
    );
    for (const s of r.streams) this.workspaceOf.set(s.id, s.workspaceId);
    this.seen.set(ws, { pending: r.pending, ours: 0 });
  }
}

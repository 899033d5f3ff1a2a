/**
 * Worker Versioning: how a workflow type behaves when a new build of the worker is promoted (docs/operations.md
 * "Upgrading longhaul with runs in flight"). Declared once per type, next to its export in the API's
 * `workflows/index.ts`; a versioned worker refuses to start while a registered type has none
 * (src/node/deployment.ts). Workflow-safe.
 *
 * - `runsPinned`: a run, its children and its continue-as-new chain stay on the build they started on, so a
 *   new build may change their code freely; the old build's workers stay up until its runs have drained.
 *   For the bounded runs (a report, a backfill, an enrichment, a Datorama operation).
 * - `movesToNewBuilds` (Auto-Upgrade): the type's next workflow task goes to the current build. For the types
 *   that never end (the limit entities, the watcher), which would otherwise hold an old build forever; their
 *   changes must replay their open histories: patched() (or a new type), proved by the replay test over the
 *   saved histories (test/workflows/replay.test.ts).
 */
import { setWorkflowOptions, workflowInfo } from '@temporalio/workflow';

export type VersioningBehaviour = 'PINNED' | 'AUTO_UPGRADE';

type WorkflowFn = (...args: never[]) => Promise<unknown>;

const DECLARED = Symbol.for('longhaul.versioningBehaviour');

function declare(behaviour: VersioningBehaviour, fns: WorkflowFn[]): void {
  for (const fn of fns) {
    (fn as unknown as Record<symbol, VersioningBehaviour>)[DECLARED] = behaviour;
    // Only on a versioned worker: the server refuses a behaviour from a worker without a deployment version.
    // (The getter runs in the workflow before its function, on each worker that runs it; an unversioned worker
    // reports a version with its build ID and no deployment name.)
    setWorkflowOptions(
      () => (workflowInfo().currentDeploymentVersion?.deploymentName ? { versioningBehavior: behaviour } : {}),
      fn as never,
    );
  }
}

/** These types' runs stay on the build they started on (bounded runs). */
export const runsPinned = (...fns: WorkflowFn[]): void => declare('PINNED', fns);

/** These types move to the current build at their next workflow task (entities, the watcher): patch changes. */
export const movesToNewBuilds = (...fns: WorkflowFn[]): void => declare('AUTO_UPGRADE', fns);

/** The behaviour a workflow function declared, if any. */
export function versioningBehaviourOf(fn: unknown): VersioningBehaviour | undefined {
  return typeof fn === 'function' ? (fn as unknown as Record<symbol, VersioningBehaviour>)[DECLARED] : undefined;
}

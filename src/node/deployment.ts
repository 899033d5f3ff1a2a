/**
 * Worker Versioning for longhaul's workers (docs/operations.md "Upgrading longhaul with runs in flight").
 * With LONGHAUL_DEPLOYMENT set, a worker belongs to that Worker Deployment under a build ID: LONGHAUL_BUILD_ID,
 * else `<package version>-<12 hex of the workflow bundle's SHA-256>` — two workers with the same workflow code
 * share a build, any change to it makes a new one. Every registered workflow type must have declared how it
 * moves between builds (src/kit/versioning.ts). Node-only.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import { bundleWorkflowCode, type WorkerOptions } from '@temporalio/worker';
import type { ConnectionLike } from '@temporalio/client';
import type { Config } from '../config';
import { versioningBehaviourOf } from '../kit/versioning';
import { registeredWorkflows, workflowsEntry } from '../workflow-entry';
import { logger } from './logger';

// eslint-disable-next-line @typescript-eslint/no-require-imports
const PACKAGE_VERSION = (require('../../package.json') as { version: string }).version;

export interface WorkerVersion {
  deploymentName: string;
  buildId: string;
}

/** The build ID of a workflow bundle's code: the package version and 12 hex of its SHA-256. */
export const buildIdOf = (code: string | Buffer): string =>
  `${PACKAGE_VERSION}-${crypto.createHash('sha256').update(code).digest('hex').slice(0, 12)}`;

export class VersioningError extends Error {
  override name = 'VersioningError';
}

/** Throws, naming them, when registered workflow types have not declared a versioning behaviour. */
export function checkVersioningDeclared(registered: Record<string, unknown> = registeredWorkflows()): void {
  const missing = Object.entries(registered)
    .filter(([, fn]) => !versioningBehaviourOf(fn))
    .map(([name]) => name);
  if (missing.length)
    throw new VersioningError(
      `LONGHAUL_DEPLOYMENT is set but workflow type(s) ${missing.join(', ')} declare no versioning behaviour: ` +
        'call runsPinned(...) or movesToNewBuilds(...) (src/kit/versioning.ts) in their workflows/index.ts',
    );
}

export interface VersionedWorkerParts {
  /** The bundle the worker runs (built here when none was given): the build ID is its hash. */
  workflowBundle: NonNullable<WorkerOptions['workflowBundle']>;
  workerDeploymentOptions?: NonNullable<WorkerOptions['workerDeploymentOptions']>;
  version?: WorkerVersion;
}

/**
 * The workflow bundle and deployment options of a worker under `config`: unversioned (the bundle as given, or
 * the entry's path) without LONGHAUL_DEPLOYMENT; else the bundle's code, its build ID and the deployment.
 */
export async function workerVersioning(
  config: Config,
  given?: WorkerOptions['workflowBundle'],
): Promise<VersionedWorkerParts | { workflowsPath: string; version?: undefined; workerDeploymentOptions?: undefined }> {
  if (!config.LONGHAUL_DEPLOYMENT) return given ? { workflowBundle: given } : { workflowsPath: workflowsEntry() };
  checkVersioningDeclared();
  const code =
    given && 'code' in given
      ? given.code
      : given && 'codePath' in given
        ? fs.readFileSync(given.codePath, 'utf8')
        : (await bundleWorkflowCode({ workflowsPath: workflowsEntry(), logger: quietBundler })).code;
  const version = { deploymentName: config.LONGHAUL_DEPLOYMENT, buildId: config.LONGHAUL_BUILD_ID ?? buildIdOf(code) };
  return {
    workflowBundle: { code },
    version,
    // PINNED for a type that declared nothing: unreachable (checked above), and the safe side if it were.
    workerDeploymentOptions: { version, useWorkerVersioning: true, defaultVersioningBehavior: 'PINNED' },
  };
}

/** The bundler's logger for a worker or a simulation: its warnings and errors only, to the process log. */
export const quietBundler = {
  trace: () => undefined,
  debug: () => undefined,
  info: () => undefined,
  warn: (m: string) => logger.warn(m),
  error: (m: string) => logger.error(m),
  log: () => undefined,
};

export interface DeploymentState {
  name: string;
  current?: string;
  ramping?: { buildId: string; percentage: number };
  versions: { buildId: string; status: string; drainage: string; createdAt?: string }[];
}

const STATUS = ['unspecified', 'inactive', 'current', 'ramping', 'draining', 'drained'];
const DRAINAGE = ['', 'draining', 'drained'];

/** The deployment's routing and versions; undefined when the server has never seen it. */
export async function describeDeployment(
  connection: ConnectionLike,
  namespace: string,
  name: string,
): Promise<DeploymentState | undefined> {
  try {
    const r = await connection.workflowService.describeWorkerDeployment({ namespace, deploymentName: name });
    const info = r.workerDeploymentInfo;
    const routing = info?.routingConfig;
    return {
      name,
      current: routing?.currentDeploymentVersion?.buildId ?? undefined,
      ramping: routing?.rampingDeploymentVersion?.buildId
        ? { buildId: routing.rampingDeploymentVersion.buildId, percentage: routing.rampingVersionPercentage ?? 0 }
        : undefined,
      versions: (info?.versionSummaries ?? []).map((v) => ({
        buildId: v.deploymentVersion?.buildId ?? '',
        status: STATUS[v.status ?? 0] ?? String(v.status),
        drainage: DRAINAGE[v.drainageStatus ?? 0] ?? String(v.drainageStatus),
        createdAt: v.createTime?.seconds ? new Date(Number(v.createTime.seconds) * 1000).toISOString() : undefined,
      })),
    };
  } catch (err) {
    if ((err as { code?: number }).code === 5) return undefined; // NOT_FOUND
    throw err;
  }
}

/** Retries `fn` while the server has not yet seen the build's pollers (a few seconds after a worker starts). */
async function whileNoPollers<T>(fn: () => Promise<T>, waitMs: number): Promise<T> {
  const until = Date.now() + waitMs;
  for (;;) {
    try {
      return await fn();
    } catch (err) {
      const code = (err as { code?: number }).code;
      // NOT_FOUND / FAILED_PRECONDITION: the version is not registered yet (no poller seen).
      if ((code !== 5 && code !== 9) || Date.now() > until) throw err;
      await new Promise((r) => setTimeout(r, 500));
    }
  }
}

/** Makes `buildId` the deployment's current build: new runs (and Auto-Upgrade types) go to it. */
export async function promoteBuild(
  connection: ConnectionLike,
  namespace: string,
  deploymentName: string,
  buildId: string,
  waitMs = 30_000,
): Promise<void> {
  await whileNoPollers(
    () =>
      connection.workflowService.setWorkerDeploymentCurrentVersion({
        namespace,
        deploymentName,
        buildId,
        identity: 'longhaul deploy promote',
      }),
    waitMs,
  );
}

/** Sends `percentage` of new runs to `buildId` (0 stops the ramp). */
export async function rampBuild(
  connection: ConnectionLike,
  namespace: string,
  deploymentName: string,
  buildId: string,
  percentage: number,
  waitMs = 30_000,
): Promise<void> {
  await whileNoPollers(
    () =>
      connection.workflowService.setWorkerDeploymentRampingVersion({
        namespace,
        deploymentName,
        buildId,
        percentage,
        identity: 'longhaul deploy ramp',
      }),
    waitMs,
  );
}

/**
 * The first build of a deployment makes itself current (nothing would reach a versioned worker otherwise):
 * only when the deployment has no current build. Later builds are promoted by hand (`longhaul deploy promote`).
 * Says what the build is now: `first` (made current here), `current` (already), or `not-current`.
 */
export async function promoteIfFirst(
  connection: ConnectionLike,
  namespace: string,
  v: WorkerVersion,
): Promise<'first' | 'current' | 'not-current'> {
  const until = Date.now() + 30_000;
  for (;;) {
    const d = await describeDeployment(connection, namespace, v.deploymentName);
    if (d?.current) return d.current === v.buildId ? 'current' : 'not-current';
    if (d?.versions.some((x) => x.buildId === v.buildId)) {
      await promoteBuild(connection, namespace, v.deploymentName, v.buildId);
      return 'first';
    }
    if (Date.now() > until) throw new VersioningError(`the server has not seen build ${v.buildId}'s pollers in 30 s`);
    await new Promise((r) => setTimeout(r, 500));
  }
}

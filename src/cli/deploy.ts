/**
 * `longhaul deploy status | promote <build> | ramp <build> <percent>`: the Worker Deployment's builds, which
 * one gets new runs, and how many runs each still holds (docs/operations.md "Upgrading longhaul with runs in
 * flight").
 */
import type { Client } from '@temporalio/client';
import { DEPLOYMENT_NAME, DEPLOYMENT_NAME_RULE, loadConfig, type Config } from '../config';
import { connectClient } from './connect';
import { InputError } from '../shared/validation';
import { describeDeployment, promoteBuild, rampBuild, type DeploymentState } from '../node/deployment';

export function deploymentName(config: Config, flag?: string): string {
  const name = flag ?? config.LONGHAUL_DEPLOYMENT;
  if (!name)
    throw new InputError(
      'longhaul deploy: which deployment? Set LONGHAUL_DEPLOYMENT (as the workers do) or --deployment',
    );
  if (!DEPLOYMENT_NAME.test(name))
    throw new InputError(`--deployment: "${name}" is not a deployment name (${DEPLOYMENT_NAME_RULE})`);
  return name;
}

/** Runs a deploy command on the deployment `--deployment` names (or LONGHAUL_DEPLOYMENT), closing the connection. */
export async function withDeployment(
  opts: { deployment?: string },
  fn: (client: Client, config: Config, name: string) => Promise<void>,
): Promise<void> {
  const config = loadConfig();
  const name = deploymentName(config, opts.deployment);
  const client = await connectClient(config);
  try {
    await fn(client, config, name);
  } catch (err) {
    await client.connection.close().catch(() => undefined); // the command's error is the one to show
    throw err;
  }
  await client.connection.close();
}

export interface BuildState {
  buildId: string;
  status: string;
  drainage: string;
  /** Pinned runs open on this build: its workers must stay up until this is 0. */
  pinned: number;
  /** Auto-Upgrade runs (entities, watchers) whose last task ran here: they move at their next task. */
  autoUpgrade: number;
}

export interface DeployStatus {
  deployment: string;
  current?: string;
  ramping?: { buildId: string; percentage: number };
  builds: BuildState[];
}

const noDeployment = (config: Config, name: string) =>
  new InputError(
    `--deployment: Temporal has no Worker Deployment "${name}" on namespace ${config.TEMPORAL_NAMESPACE} ` +
      '(it appears when a worker with LONGHAUL_DEPLOYMENT set has polled)',
  );

/** The deployment's routing and its builds, each with its open runs (from visibility). */
export async function deployStatus(client: Client, config: Config, name: string): Promise<DeployStatus> {
  const d: DeploymentState | undefined = await describeDeployment(client.connection, config.TEMPORAL_NAMESPACE, name);
  if (!d) throw noDeployment(config, name);
  const builds: BuildState[] = [];
  for (const v of d.versions) {
    const open = `TemporalWorkerDeploymentVersion = "${name}:${v.buildId}" AND ExecutionStatus = "Running"`;
    const count = async (behaviour: string) =>
      (await client.workflow.count(`${open} AND TemporalWorkflowVersioningBehavior = "${behaviour}"`)).count;
    builds.push({ ...v, pinned: await count('Pinned'), autoUpgrade: await count('AutoUpgrade') });
  }
  return { deployment: name, current: d.current, ramping: d.ramping, builds };
}

export function formatDeployStatus(s: DeployStatus): string[] {
  return [
    `deployment ${s.deployment}: current build ${s.current ?? '(none)'}` +
      (s.ramping ? `, ramping ${s.ramping.buildId} at ${s.ramping.percentage}%` : ''),
    ...s.builds.map(
      (b) =>
        `  ${b.buildId.padEnd(24)} ${b.status.padEnd(9)} ${String(b.pinned).padStart(6)} pinned runs open` +
        (b.autoUpgrade ? `, ${b.autoUpgrade} auto-upgrade (move at their next task)` : '') +
        (b.drainage ? ` (${b.drainage})` : ''),
    ),
  ];
}

/** The deployment, refused unless `buildId` is one of its builds (no run counts: only the builds are needed). */
async function knownBuild(client: Client, config: Config, name: string, buildId: string): Promise<void> {
  const d = await describeDeployment(client.connection, config.TEMPORAL_NAMESPACE, name);
  if (!d) throw noDeployment(config, name);
  if (!d.versions.some((b) => b.buildId === buildId))
    throw new InputError(
      `<build>: "${buildId}" is not a build of deployment ${name} (known: ${d.versions.map((b) => b.buildId).join(', ') || 'none'})`,
    );
}

export async function deployPromote(client: Client, config: Config, name: string, buildId: string): Promise<void> {
  await knownBuild(client, config, name, buildId);
  await promoteBuild(client.connection, config.TEMPORAL_NAMESPACE, name, buildId);
}

export function parsePercent(raw: string): number {
  const p = Number(raw);
  if (!/^\d+(\.\d+)?$/.test(raw) || !(p >= 0 && p <= 100))
    throw new InputError(`<percent>: "${raw}" is not a percentage from 0 to 100`);
  return p;
}

export async function deployRamp(
  client: Client,
  config: Config,
  name: string,
  buildId: string,
  percent: number,
): Promise<void> {
  await knownBuild(client, config, name, buildId);
  await rampBuild(client.connection, config.TEMPORAL_NAMESPACE, name, buildId, percent);
}

/**
 * Worker Versioning declarations: every registered workflow type says how it moves between builds (the
 * bounded runs pinned, the entities and the watcher auto-upgrading), a versioned worker refuses a type that
 * says nothing, the build ID follows the bundle's code, and `longhaul deploy`'s input is checked.
 */
import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config';
import { versioningBehaviourOf } from '../../src/kit/versioning';
import { buildIdOf, checkVersioningDeclared, workerVersioning } from '../../src/node/deployment';
import { registeredWorkflows } from '../../src/workflow-entry';
import { deploymentName, parsePercent } from '../../src/cli/deploy';

const NEVER_ENDING = ['permits', 'semaphore', 'quotaLedger', 'datoramaLimiter', 'youtubeWatch'];

describe('worker versioning', () => {
  it('every registered type declares a behaviour: entities and the watcher Auto-Upgrade, bounded runs Pinned', () => {
    const byType = Object.fromEntries(
      Object.entries(registeredWorkflows()).map(([name, fn]) => [name, versioningBehaviourOf(fn)]),
    );
    for (const [name, behaviour] of Object.entries(byType))
      expect([name, behaviour]).toEqual([name, NEVER_ENDING.includes(name) ? 'AUTO_UPGRADE' : 'PINNED']);
    expect(() => checkVersioningDeclared()).not.toThrow();
  });

  it('a versioned worker refuses a type without a declared behaviour, naming it', () => {
    const undeclared = async function sixthApiReport() {
      return Promise.resolve();
    };
    expect(() => checkVersioningDeclared({ ...registeredWorkflows(), sixthApiReport: undeclared })).toThrow(
      /sixthApiReport declare no versioning behaviour: call runsPinned/,
    );
  });

  it('the build ID is the package version and a hash of the bundle: same code same build, any change a new one', async () => {
    expect(buildIdOf('code a')).toMatch(/^\d+\.\d+\.\d+-[0-9a-f]{12}$/);
    expect(buildIdOf('code a')).toBe(buildIdOf('code a'));
    expect(buildIdOf('code a')).not.toBe(buildIdOf('code b'));
    const config = parseConfig({ LONGHAUL_DEPLOYMENT: 'longhaul-prod' });
    const v = await workerVersioning(config, { code: 'code a' });
    expect(v.version).toEqual({ deploymentName: 'longhaul-prod', buildId: buildIdOf('code a') });
    expect(v.workerDeploymentOptions).toMatchObject({ useWorkerVersioning: true });
    const pinned = await workerVersioning(parseConfig({ LONGHAUL_DEPLOYMENT: 'd', LONGHAUL_BUILD_ID: '2.0.0' }), {
      code: 'x',
    });
    expect(pinned.version?.buildId).toBe('2.0.0');
    // Unset: an unversioned worker, as before.
    expect((await workerVersioning(parseConfig({}), { code: 'x' })).workerDeploymentOptions).toBeUndefined();
  });

  it('bad deployment settings and deploy arguments are refused, naming the variable or argument', () => {
    expect(() => parseConfig({ LONGHAUL_DEPLOYMENT: 'long.haul' })).toThrow(/LONGHAUL_DEPLOYMENT/);
    expect(() => parseConfig({ LONGHAUL_BUILD_ID: 'a b' })).toThrow(/LONGHAUL_BUILD_ID/);
    expect(() => deploymentName(parseConfig({}))).toThrow(/LONGHAUL_DEPLOYMENT.*--deployment/);
    expect(() => deploymentName(parseConfig({}), 'a.b')).toThrow(/--deployment/);
    expect(deploymentName(parseConfig({ LONGHAUL_DEPLOYMENT: 'prod' }))).toBe('prod');
    for (const bad of ['101', '-1', 'ten', '5%', '']) expect(() => parsePercent(bad), bad).toThrow(/<percent>/);
    expect(parsePercent('25')).toBe(25);
  });
});

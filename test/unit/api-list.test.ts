/**
 * The one list of APIs (src/pipelines/apis.ts) feeds the pipeline list, the worker's activities and the
 * sandboxes: each API's pipelines, activities and sandbox appear there, and a name defined twice is refused.
 */
import { describe, expect, it } from 'vitest';
import { APIS } from '../../src/pipelines/apis';
import { PIPELINES, pipelinesOf } from '../../src/pipelines';
import { SANDBOXES } from '../../src/sandbox';
import { createActivities } from '../../src/activities';
import { DuplicateActivityError, mergeActivities } from '../../src/kit/activity/registry';
import type { Deps } from '../../src/activities/deps';
import { loadConfig } from '../../src/config';
import { registeredWorkflows } from '../../src/workflow-entry';

const registered = registeredWorkflows();

describe('the list of APIs', () => {
  it('gives every pipeline, sandbox and activity of every API folder', () => {
    expect(Object.keys(PIPELINES)).toEqual(APIS.flatMap((a) => a.pipelines.map((p) => p.name)));
    expect(Object.keys(SANDBOXES).sort()).toEqual(['acme', 'dailymotion', 'datorama', 'titelive', 'youtube']);
    const deps = { config: loadConfig(), warehouse: {}, bucket: {} } as unknown as Deps;
    const names = Object.keys(createActivities(deps));
    for (const api of APIS) for (const name of Object.keys(api.activities?.(deps) ?? {})) expect(names).toContain(name);
    expect(names).toContain('requestSlot'); // the kit's semaphore request
    expect(names).toContain('requestPermit'); // the kit's permit request
  });

  it("names, for every pipeline, a workflow the worker's bundle exports", () => {
    const workflows = registered as Record<string, unknown>;
    const missing = Object.values(PIPELINES).filter((p) => typeof workflows[p.workflowType] !== 'function');
    expect(missing.map((p) => `${p.name} → ${p.workflowType}`)).toEqual([]);
  });

  it('refuses a pipeline two APIs define, naming both', () => {
    const [first] = APIS;
    expect(() => pipelinesOf([first, { ...first, name: 'copy' }])).toThrow(
      `pipeline "${first.pipelines[0].name}" is defined by both the ${first.name} and the copy APIs`,
    );
  });

  it('refuses an activity two APIs define, naming both', () => {
    expect(() => mergeActivities({ dailymotion: { loadReport: () => 1 }, sixth: { loadReport: () => 2 } })).toThrow(
      DuplicateActivityError,
    );
  });
});

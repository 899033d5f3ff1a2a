import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { Worker } from '@temporalio/worker';
import { HISTORIES_DIR } from '../helpers/histories';
import { compareWorkflowCode, workflowCodeOf } from '../helpers/workflow-code';
import { workflowBundle } from '../helpers/temporal';
import { registeredWorkflows } from '../../src/workflow-entry';

const registered = registeredWorkflows();

const files = fs.existsSync(HISTORIES_DIR)
  ? fs.readdirSync(HISTORIES_DIR).filter((f) => f.endsWith('.json') && f !== 'workflow-code.json')
  : [];

describe('replay of saved histories (determinism guard)', () => {
  it('has saved histories to replay', () => {
    expect(files.length).toBeGreaterThan(0);
  });
  it('has a saved history for every registered workflow type', () => {
    const types = new Set(
      files.map(
        (f) =>
          (
            JSON.parse(fs.readFileSync(path.join(HISTORIES_DIR, f), 'utf8')) as {
              events: { workflowExecutionStartedEventAttributes?: { workflowType?: { name?: string } } }[];
            }
          ).events[0].workflowExecutionStartedEventAttributes?.workflowType?.name,
      ),
    );
    expect(Object.keys(registered).filter((t) => !types.has(t))).toEqual([]);
  });
  it('the workflow code is the code the saved histories were last replayed against (npm run histories:ack)', () => {
    const bundle = workflowBundle() as { codePath: string };
    const problems = compareWorkflowCode(workflowCodeOf(fs.readFileSync(bundle.codePath, 'utf8')));
    expect(problems.join('\n')).toBe('');
  });
  it.each(files)('%s replays with the current workflow code', async (file) => {
    // Proto JSON as `temporal workflow show --output json` writes it; the SDK converts it.
    const history: unknown = JSON.parse(fs.readFileSync(path.join(HISTORIES_DIR, file), 'utf8'));
    // Replay under the recorded workflow ID: workflows derive child IDs from their own.
    const started = (history as { events?: { workflowExecutionStartedEventAttributes?: { workflowId?: string } }[] })
      .events?.[0];
    const workflowId = started?.workflowExecutionStartedEventAttributes?.workflowId ?? path.basename(file, '.json');
    await Worker.runReplayHistory({ workflowBundle: workflowBundle() }, history, workflowId);
  });
});

import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { Client } from '@temporalio/client';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { dataConverterFromEnv } from '../../src/codec/aes-codec';
import { testDeps, uniqueQueue, useTemporalServer, withWorker } from '../helpers/temporal';

describe('payload encryption on the dev server', () => {
  let env: TestWorkflowEnvironment;
  useTemporalServer('dev', (e) => (env = e));

  it('keeps inputs and results out of the history in plaintext, and reads them back', async () => {
    const dataConverter = dataConverterFromEnv({ LONGHAUL_ENCRYPTION_KEY: randomBytes(32).toString('base64') })!;
    const client = new Client({ connection: env.connection, dataConverter });
    const label = `very-private-${uniqueQueue('label')}`;
    const workflowId = uniqueQueue('encrypted');
    const result = await withWorker(
      env,
      testDeps(),
      (taskQueue) => client.workflow.execute('selftest', { taskQueue, workflowId, args: [{ sleep: 0, label }] }),
      { dataConverter },
    );
    expect(result).toMatchObject({ table: 'longhaul_selftest' });
    const history = await env.client.workflow.getHandle(workflowId).fetchHistory();
    // History JSON carries bytes (payload data, metadata) as base64: decode every such string, so a
    // plaintext value anywhere in a payload would show up.
    const raw = JSON.stringify(history).replace(/"([A-Za-z0-9+/]{8,}={0,2})"/g, (_m, b64: string) =>
      Buffer.from(b64, 'base64').toString('latin1'),
    );
    expect(raw).toContain('binary/encrypted');
    expect(raw).not.toContain(label);
  });
});

/** The demo's logs: once `logToFile` is called, the process logger writes JSON lines to that file. */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { expect, it } from 'vitest';
import { logger, logToFile } from '../../src/node/logger';

it('logToFile sends every later log line to the file, as JSON, secrets redacted', () => {
  const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'longhaul-log-')), 'sub', 'worker.log');
  logToFile(file);
  logger.info({ workflowId: 'wf-1', token: 's3cret' }, 'hello from the worker');
  logger.warn({ auth: { access_token: 'abc', user: 'me' } }, 'second line');
  const lines = fs
    .readFileSync(file, 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as Record<string, unknown>);
  expect(lines.map((l) => l.msg)).toEqual(['hello from the worker', 'second line']);
  expect(lines[0]).toMatchObject({ workflowId: 'wf-1', token: '[redacted]', level: 30 });
  expect(lines[1]).toMatchObject({ auth: { access_token: '[redacted]', user: 'me' }, level: 40 });
  expect(fs.readFileSync(file, 'utf8')).not.toMatch(/s3cret|"abc"/);
});

/**
 * The extract activity's chaos point: `titelive.extract.after-write` is reached once per page, right after
 * the page is in the bucket and before its checkpoint is written (a kill there must leave a page without
 * checkpoint, the case the resume logic has to survive).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { MockActivityEnvironment } from '@temporalio/testing';
import { liveAttempt } from '../helpers/activity';
import { createTiteliveExtractActivities } from '../../src/pipelines/titelive/activities/extract';
import { CHAOS_POINTS } from '../../src/kit/activity/chaos-points';
import { parseConfig } from '../../src/config';
import type { Body, Bucket, PutOptions } from '../../src/sinks/bucket';
import { LocalBucket } from '../../src/sinks/local-bucket';
import { TiteliveSandbox } from '../../src/pipelines/titelive/sandbox/server';
import { demoClient } from '../helpers/titelive';

const steps: string[] = [];
vi.mock('../../src/kit/activity/chaos-points', async (orig) => ({
  ...(await orig<object>()),
  chaosPoint: (name: string) => steps.push(`chaos ${name}`),
}));

const root = fs.mkdtempSync(path.join(os.tmpdir(), 'longhaul-tl-chaos-'));
afterAll(() => fs.rmSync(root, { recursive: true, force: true }));

/** No Temporal server here: no shared rate entity (it is tested in test/integration/titelive-rate.test.ts). */
const NO_TEMPORAL = parseConfig({ TITELIVE_RATE_PER_SECOND: '0' });

describe('titelive extract chaos point', () => {
  it('fires after each page is written and before its checkpoint', async () => {
    expect(CHAOS_POINTS).toContain('titelive.extract.after-write');
    const sandbox = new TiteliveSandbox({ seed: 3, catalog: { books: 120, music: 5 } });
    const url = await sandbox.start();
    try {
      const bucket: Bucket = new LocalBucket(root);
      const put = bucket.put.bind(bucket);
      bucket.put = async (key: string, body: Body, opts?: PutOptions) => {
        await put(key, body, opts);
        steps.push(key.endsWith('checkpoint.json') ? 'checkpoint' : 'page');
      };
      const client = demoClient(url);
      const { titeliveExtract } = createTiteliveExtractActivities({ config: NO_TEMPORAL, bucket, client });
      const out = await new MockActivityEnvironment(liveAttempt()).run(titeliveExtract, {
        runId: 'r1',
        category: 'LIVRE' as const,
        query: { dateMin: '2025-01-01', dateMax: '2025-12-31' },
        perPage: 50,
        startPage: 1,
      });
      expect(out).toMatchObject({ status: 'done', pages: 3, products: 120 });
      expect(steps).toEqual(
        Array.from({ length: 3 }, () => ['page', 'chaos titelive.extract.after-write', 'checkpoint']).flat(),
      );
    } finally {
      await sandbox.stop();
    }
  });
});

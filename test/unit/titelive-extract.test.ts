/**
 * The extract activity's resume point after a reread: a query read again from page 1 (its result set shrank
 * while paged) starts a new pass, and a retried attempt resumes from that pass's checkpoint even when the
 * heartbeat details the server kept are from the earlier pass with a higher page.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { MockActivityEnvironment } from '@temporalio/testing';
import { liveAttempt } from '../helpers/activity';
import { createTiteliveExtractActivities, pageKey } from '../../src/pipelines/titelive/activities/extract';
import { parseConfig } from '../../src/config';
import { LocalBucket } from '../../src/sinks/local-bucket';
import { TiteliveSandbox } from '../../src/pipelines/titelive/sandbox/server';
import { demoClient } from '../helpers/titelive';

const root = fs.mkdtempSync(path.join(os.tmpdir(), 'longhaul-tl-extract-'));
afterAll(() => fs.rmSync(root, { recursive: true, force: true }));

/** No Temporal server here: no shared rate entity (it is tested in test/integration/titelive-rate.test.ts). */
const NO_TEMPORAL = parseConfig({ TITELIVE_RATE_PER_SECOND: '0' });

describe('titelive extract resume', () => {
  it('resumes from the latest pass, not from a stale heartbeat of an earlier one', async () => {
    const sandbox = new TiteliveSandbox({ seed: 3, catalog: { books: 200, music: 5 } });
    const url = await sandbox.start();
    try {
      const bucket = new LocalBucket(root);
      const client = demoClient(url);
      const { titeliveExtract } = createTiteliveExtractActivities({ config: NO_TEMPORAL, bucket, client });
      const args = {
        runId: 'r1',
        category: 'LIVRE' as const,
        query: { dateMin: '2025-01-01', dateMax: '2025-12-31' },
        perPage: 50,
        startPage: 1,
      };
      // The second pass wrote page 1 and its checkpoint, then the attempt died; the server still holds the
      // first pass's last heartbeat (page 3).
      const ckKey = `titelive/raw/LIVRE/r1/2025-01-01_2025-12-31/checkpoint.json`;
      await bucket.put(pageKey('LIVRE', 'r1', args.query, 1), 'pass 2 page 1');
      await bucket.put(ckKey, JSON.stringify({ lastPage: 1, products: 50, articles: 70, nbreponses: 200, pass: 1 }));
      const stale = { lastPage: 3, products: 150, articles: 210, nbreponses: 210, pass: 0 };
      const out = await new MockActivityEnvironment({ heartbeatDetails: stale, ...liveAttempt() }).run(
        titeliveExtract,
        args,
      );
      const pages = sandbox.log.filter((e) => e.route === 'search' && e.status === 200).map((e) => e.meta?.page);
      expect(pages).toEqual([2, 3, 4]);
      expect(out).toMatchObject({ status: 'done', pages: 4, products: 200 });
    } finally {
      await sandbox.stop();
    }
  });
});

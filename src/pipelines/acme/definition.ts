/**
 * `acme-report`: Acme Ads campaign statistics by day, through the API's asynchronous reports (the contract:
 * README.md here). The whole pipeline is this declaration: the kit's async-report source (src/kit/async-report/)
 * asks, polls, downloads and loads, under the API's limits. Workflow-safe.
 */
import { z } from 'zod';
import { defineAsyncReport } from '../../kit/async-report/spec';
import { columns } from '../../shared/columns';
import { asyncReportPipeline } from '../../kit/async-report/pipeline';
import type { WorkflowOf } from '../types';
import type * as workflows from './workflows';

export const acmeReports = defineAsyncReport({
  name: 'acme',
  label: 'Acme Ads',
  pipeline: {
    name: 'acme-report',
    workflowType: 'acmeReport' satisfies WorkflowOf<typeof workflows>,
    description: 'Acme Ads campaign statistics by day (asynchronous reports) → warehouse',
  },
  env: { baseUrl: { name: 'ACME_API_URL', default: 'http://127.0.0.1:4106' }, token: { name: 'ACME_TOKEN' } },
  options: {
    schema: z.object({
      attribution: z.enum(['1d', '7d', '28d']).default('7d').describe('Conversion attribution window'),
    }),
    example: { attribution: '7d' },
  },
  create: {
    path: '/v1/reports',
    body: (w, o) => ({ date_range: { start: w.from, end: w.to }, attribution_window: o.attribution }),
    idPath: 'report.id',
    idempotencyHeader: 'Idempotency-Key',
  },
  status: {
    path: '/v1/reports/{id}',
    statePath: 'report.status',
    states: { QUEUED: 'pending', PROCESSING: 'pending', COMPLETED: 'ready', FAILED: 'failed', EXPIRED: 'expired' },
    linksPath: 'report.files[*].url',
    errorPath: 'report.failure_reason',
  },
  download: { format: 'csv' },
  poll: { firstMs: 15_000, maxMs: 10 * 60_000, factor: 2, giveUpMs: 6 * 3_600_000 },
  table: {
    name: 'acme_campaign_daily',
    columns: columns({
      day: 'DATE!',
      campaign_id: 'STRING!',
      attribution: 'STRING!',
      impressions: 'INT64',
      clicks: 'INT64',
      spend: 'FLOAT64',
    }),
    primaryKey: ['day', 'campaign_id', 'attribution'],
    // A window's load replaces that window's rows of its attribution, and only those.
    write: { kind: 'replaceRange', column: 'day', ownedBy: ['attribution'] },
  },
  limits: { concurrentReports: 2, perMinute: 60, perDay: 20_000 },
});

export const acmePipeline = asyncReportPipeline(acmeReports);

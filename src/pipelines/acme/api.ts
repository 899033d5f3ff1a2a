/** Acme Ads' Node side (src/pipelines/api.ts): its pipeline, the kit's activities for it, its sandbox. */
import { defineApi } from '../api';
import * as workflows from './workflows';
import { acmePipeline, acmeReports } from './definition';
import { createAsyncReportActivities } from '../../kit/activity/async-report';
import { acmeSandbox } from './sandbox';

export const acmeApi = defineApi({
  name: 'acme',
  workflows,
  pipelines: [acmePipeline],
  activities: createAsyncReportActivities(acmeReports),
  sandbox: acmeSandbox,
});

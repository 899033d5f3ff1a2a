/** Dailymotion's Node side (src/pipelines/api.ts): the partner-report pipeline, its activities and sandbox. */
import { defineApi } from '../api';
import * as workflows from './workflows';
import type { PipelineDef } from '../types';
import { dailymotionReportPipeline } from './definition';
import { createDailymotionActivities } from './activities/report';
import { dailymotionSandbox } from './sandbox';

export const dailymotionApi = defineApi({
  name: 'dailymotion',
  workflows,
  pipelines: [dailymotionReportPipeline as PipelineDef],
  activities: (deps) => createDailymotionActivities(deps),
  sandbox: dailymotionSandbox,
});

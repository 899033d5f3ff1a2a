/** The `selftest` pipeline's Node side (src/pipelines/api.ts): no API, so no sandbox. */
import { defineApi } from '../api';
import * as workflows from './workflows';
import type { PipelineDef } from '../types';
import { selftestPipeline } from './definition';
import { createSelftestActivities } from './activities/selftest';

export const selftestApi = defineApi({
  name: 'selftest',
  workflows,
  pipelines: [selftestPipeline as PipelineDef],
  activities: createSelftestActivities,
});

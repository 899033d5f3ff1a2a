/** Titelive's Node side (src/pipelines/api.ts): the catalog pipeline, its activities and sandbox. */
import { defineApi } from '../api';
import * as workflows from './workflows';
import type { PipelineDef } from '../types';
import { titelivePipeline } from './definition';
import { createTiteliveActivities } from './activities/titelive';
import { titeliveSandbox } from './sandbox';

export const titeliveApi = defineApi({
  name: 'titelive',
  workflows,
  pipelines: [titelivePipeline as PipelineDef],
  activities: createTiteliveActivities,
  sandbox: titeliveSandbox,
});

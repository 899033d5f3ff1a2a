/**
 * Datorama's Node side (src/pipelines/api.ts): the six pipelines, the main queue's activities and the sandbox.
 * The platform-call activities run on their own queue, by the worker of src/datorama-worker.ts.
 */
import { defineApi } from '../api';
import * as workflows from './workflows';
import { DATORAMA_PIPELINES } from './definition';
import { createDatoramaActivities } from './activities/main';
import { datoramaSandbox } from './sandbox';

export const datoramaApi = defineApi({
  name: 'datorama',
  workflows,
  pipelines: DATORAMA_PIPELINES,
  activities: createDatoramaActivities,
  sandbox: datoramaSandbox,
});

/** The selftest API's workflows (the worker's bundle registers every export: src/workflow-entry.ts). */
import { runsPinned } from '../../../kit/versioning';
import { selftest } from './selftest';

export { selftest };
runsPinned(selftest);

/** The selftest API's workflows (the worker's bundle registers every export: src/workflow-entry.ts). */
export { selftest } from './selftest';

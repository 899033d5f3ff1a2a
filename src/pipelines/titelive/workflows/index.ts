/** Titelive's workflows (the worker's bundle registers every export: src/workflow-entry.ts). */
export { titelive } from './titelive';

/** Titelive's workflows (the worker's bundle registers every export: src/workflow-entry.ts). */
import { runsPinned } from '../../../kit/versioning';
import { titelive } from './titelive';

export { titelive };
runsPinned(titelive);

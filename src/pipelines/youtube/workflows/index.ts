/** YouTube's workflows (the worker's bundle registers every export: src/workflow-entry.ts). */
export { youtubeEnrich } from './enrich';
export { youtubeWatch } from './watch';

/** Datorama's workflows (the worker's bundle registers every export: src/workflow-entry.ts). */
export { datoramaLimiter } from './limiter';
export { datoramaProcess } from './process';
export { datoramaRerun, datoramaRerunAll } from './rerun';
export { datoramaRename, datoramaPatch } from './patch';
export { datoramaCollect } from './collect';

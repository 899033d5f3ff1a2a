/** Datorama's workflows (the worker's bundle registers every export: src/workflow-entry.ts). */
import { movesToNewBuilds, runsPinned } from '../../../kit/versioning';
import { datoramaLimiter } from './limiter';
import { datoramaProcess } from './process';
import { datoramaRerun, datoramaRerunAll } from './rerun';
import { datoramaRename, datoramaPatch } from './patch';
import { datoramaCollect } from './collect';

export {
  datoramaLimiter,
  datoramaProcess,
  datoramaRerun,
  datoramaRerunAll,
  datoramaRename,
  datoramaPatch,
  datoramaCollect,
};
// The operations stay on the build they started on; the token's limiter never ends and moves (src/kit/versioning.ts).
runsPinned(datoramaProcess, datoramaRerun, datoramaRerunAll, datoramaRename, datoramaPatch, datoramaCollect);
movesToNewBuilds(datoramaLimiter);

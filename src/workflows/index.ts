/** Every workflow the worker registers (the bundle's entry point). */
export { selftest } from '../pipelines/selftest/workflows/selftest';
export { titelive } from '../pipelines/titelive/workflows/titelive';
export { semaphore } from '../kit/limits/semaphore';
export { quotaLedger } from '../kit/limits/quota-ledger';
export { youtubeEnrich } from '../pipelines/youtube/workflows/enrich';
export { youtubeWatch } from '../pipelines/youtube/workflows/watch';
export { datoramaLimiter } from '../pipelines/datorama/workflows/limiter';
export { datoramaProcess } from '../pipelines/datorama/workflows/process';
export { datoramaRerun, datoramaRerunAll } from '../pipelines/datorama/workflows/rerun';
export { datoramaRename, datoramaPatch } from '../pipelines/datorama/workflows/patch';
export { datoramaCollect } from '../pipelines/datorama/workflows/collect';
export { dailymotionReport } from '../pipelines/dailymotion/workflows/report';
export { dailymotionReportWindow } from '../pipelines/dailymotion/workflows/window';

/** Every workflow the worker registers (the bundle's entry point). */
export { selftest } from './selftest';
export { titelive } from './titelive';
export { semaphore } from './semaphore';
export { quotaLedger } from './quota-ledger';
export { youtubeEnrich } from './youtube-enrich';
export { youtubeWatch } from './youtube-watch';
export { datoramaLimiter } from './datorama-limiter';
export { datoramaProcess } from './datorama-process';
export { datoramaRerun, datoramaRerunAll } from './datorama-rerun';
export { datoramaRename, datoramaPatch } from './datorama-patch';
export { datoramaCollect } from './datorama-collect';
export { dailymotionReport } from './dailymotion-report';
export { dailymotionReportWindow } from './dailymotion-window';

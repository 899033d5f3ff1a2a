/** Dailymotion's workflows (the worker's bundle registers every export: src/workflow-entry.ts). */
export { dailymotionReport } from './report';
export { dailymotionReportWindow } from './window';

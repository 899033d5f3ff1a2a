/** Dailymotion's workflows (the worker's bundle registers every export: src/workflow-entry.ts). */
import { runsPinned } from '../../../kit/versioning';
import { dailymotionReport } from './report';
import { dailymotionReportWindow } from './window';

export { dailymotionReport, dailymotionReportWindow };
// A report run and its windows stay on the build they started on (src/kit/versioning.ts).
runsPinned(dailymotionReport, dailymotionReportWindow);

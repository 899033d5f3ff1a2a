/** The pipelines `longhaul run` knows, by name. */
import type { PipelineDef } from './types';
import { dailymotionReportPipeline } from './dailymotion-report';
import { selftestPipeline } from './selftest';
import { titelivePipeline } from './titelive';
import { youtubeEnrichPipeline } from './youtube-enrich';
import { youtubeWatchPipeline } from './youtube-watch';
import { DATORAMA_PIPELINES } from './datorama';

export const PIPELINES: Record<string, PipelineDef> = {
  [selftestPipeline.name]: selftestPipeline as PipelineDef,
  [dailymotionReportPipeline.name]: dailymotionReportPipeline as PipelineDef,
  [titelivePipeline.name]: titelivePipeline as PipelineDef,
  [youtubeEnrichPipeline.name]: youtubeEnrichPipeline as PipelineDef,
  [youtubeWatchPipeline.name]: youtubeWatchPipeline as PipelineDef,
  ...Object.fromEntries(DATORAMA_PIPELINES.map((p) => [p.name, p])),
};

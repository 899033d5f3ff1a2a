/** The pipelines `longhaul run` knows, by name. */
import type { PipelineDef } from './types';
import { dailymotionReportPipeline } from './dailymotion/definition';
import { selftestPipeline } from './selftest/definition';
import { titelivePipeline } from './titelive/definition';
import { youtubeEnrichPipeline } from './youtube/enrich';
import { youtubeWatchPipeline } from './youtube/watch';
import { DATORAMA_PIPELINES } from './datorama/definition';

export const PIPELINES: Record<string, PipelineDef> = {
  [selftestPipeline.name]: selftestPipeline as PipelineDef,
  [dailymotionReportPipeline.name]: dailymotionReportPipeline as PipelineDef,
  [titelivePipeline.name]: titelivePipeline as PipelineDef,
  [youtubeEnrichPipeline.name]: youtubeEnrichPipeline as PipelineDef,
  [youtubeWatchPipeline.name]: youtubeWatchPipeline as PipelineDef,
  ...Object.fromEntries(DATORAMA_PIPELINES.map((p) => [p.name, p])),
};

/**
 * The APIs longhaul ships, one folder each: the one list the pipeline list, the worker's workflows and
 * activities and the sandboxes are built from (a new API adds its line here, nothing else outside its folder).
 */
import type { ApiModule } from './api';
import { selftestApi } from './selftest/api';
import { dailymotionApi } from './dailymotion/api';
import { titeliveApi } from './titelive/api';
import { youtubeApi } from './youtube/api';
import { datoramaApi } from './datorama/api';
import { acmeApi } from './acme/api';

export const APIS: readonly ApiModule[] = [selftestApi, dailymotionApi, titeliveApi, youtubeApi, datoramaApi, acmeApi];

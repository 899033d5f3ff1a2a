/** YouTube's workflows (the worker's bundle registers every export: src/workflow-entry.ts). */
import { movesToNewBuilds, runsPinned } from '../../../kit/versioning';
import { youtubeEnrich } from './enrich';
import { youtubeWatch } from './watch';

export { youtubeEnrich, youtubeWatch };
// An enrichment stays on its build across its quota days; the watcher never ends and moves (src/kit/versioning.ts).
runsPinned(youtubeEnrich);
movesToNewBuilds(youtubeWatch);

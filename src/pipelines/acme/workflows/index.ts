/** Acme Ads' workflow: the kit's async-report workflow over the declaration. */
import { asyncReportWorkflow } from '../../../kit/async-report/workflow';
import { runsPinned } from '../../../kit/versioning';
import { acmeReports } from '../definition';

export const acmeReport = asyncReportWorkflow(acmeReports);
runsPinned(acmeReport);

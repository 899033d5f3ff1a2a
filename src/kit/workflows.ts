/**
 * The kit's entity workflows, registered once by every worker (the bundle's entry adds each API's workflows:
 * src/workflow-entry.ts): the permit entity (one protocol, a policy per limit) — and the durable semaphore and
 * the quota ledger it replaces, kept for the runs that use them and their saved histories.
 */
import { permits } from './limits/permits';
import { semaphore } from './limits/semaphore';
import { quotaLedger } from './limits/quota-ledger';
import { movesToNewBuilds } from './versioning';

export { permits, semaphore, quotaLedger };
// Entities never end: they move to each new build (their changes are patched: src/kit/versioning.ts).
movesToNewBuilds(permits, semaphore, quotaLedger);

/**
 * The kit's entity workflows, registered once by every worker (the bundle's entry adds each API's workflows:
 * src/workflow-entry.ts): the permit entity (one protocol, a policy per limit) — and the durable semaphore and
 * the quota ledger it replaces, kept for the runs that use them and their saved histories.
 */
export { permits } from './limits/permits';
export { semaphore } from './limits/semaphore';
export { quotaLedger } from './limits/quota-ledger';

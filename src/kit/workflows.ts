/**
 * The kit's entity workflows, registered once by every worker (the bundle's entry adds each API's workflows:
 * src/workflow-entry.ts): the durable semaphore, the quota ledger and the rate-window limiter.
 */
export { semaphore } from './limits/semaphore';
export { quotaLedger } from './limits/quota-ledger';
export { rateWindowLimiter } from './limits/rate-window';

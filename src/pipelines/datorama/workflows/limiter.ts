/**
 * The Datorama token's limiter is the kit's rate-window limiter (src/kit/limits/rate-window.ts): 60 calls in
 * any 60 s, 20,000 a UTC day, and holds the API orders (a 429 or 0 remaining), for every run of every worker.
 * Registered under the workflow type `datoramaLimiter` (the name running limiters and histories carry).
 */
export {
  rateWindowLimiter as datoramaLimiter,
  limiterDetails,
  nextPermit,
  type LimiterInput,
} from '../../../kit/limits/rate-window';

/** Every task queue, named in one place. A queue of its own where an API needs its own rate limit. */
export const TASK_QUEUES = {
  /** Orchestration and general activities. */
  main: 'longhaul',
  /** Datorama platform calls: the worker polling it caps activities at the token's 60 calls/min. */
  datorama: 'longhaul-datorama',
} as const;

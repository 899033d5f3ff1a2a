/** Every workflow the worker registers (the bundle's entry point). */
export { selftest } from './selftest';
export { titelive } from './titelive';
export { semaphore } from './semaphore';

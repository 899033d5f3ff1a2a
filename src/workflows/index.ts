/** Every workflow the worker registers (the bundle's entry point). */
export { selftest } from './selftest';
export { semaphore } from './semaphore';

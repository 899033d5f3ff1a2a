/** Every workflow the worker registers (the bundle's entry point). */
export { selftest } from './selftest';

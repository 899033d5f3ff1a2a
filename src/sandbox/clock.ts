/**
 * The sandbox clock. Real time by default; tests move it (offset) or drive it from another source —
 * e.g. the time-skipping test server's clock, so a "2-hour" report finishes when workflow time says so.
 */
export type TimeSource = () => number | Promise<number>;

export class SandboxClock {
  private offsetMs = 0;
  constructor(private source: TimeSource = () => Date.now()) {}

  async now(): Promise<number> {
    return (await this.source()) + this.offsetMs;
  }
  advance(ms: number): void {
    this.offsetMs += ms;
  }
  /** Follow another clock (e.g. `() => testEnv.currentTimeMs()`), dropping any offset. */
  follow(source: TimeSource): void {
    this.source = source;
    this.offsetMs = 0;
  }
  async set(epochMs: number): Promise<void> {
    this.offsetMs += epochMs - (await this.now());
  }
}

import type { Clock } from '@tessera/core';

/** Waits on a clock, one wait at a time, that `wake()` can cut short (stop, or a lease arriving). */
export class Sleeper {
  private waking: (() => void) | undefined;

  constructor(private readonly clock: Clock) {}

  sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        this.clock.clearTimeout(timer);
        if (this.waking === done) this.waking = undefined;
        resolve();
      };
      const timer = this.clock.setTimeout(done, ms);
      this.waking = done;
    });
  }

  /** Ends the current wait now, if there is one. */
  wake(): void {
    this.waking?.();
  }
}

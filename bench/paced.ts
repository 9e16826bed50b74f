// Paced one-way sends for the throughput benchmarks: a counter of arrivals at the
// receiving end, and a sender that keeps at most a window of messages unacknowledged.

/** A run that gets no message through for this long has lost some. */
const STALL_MS = 20_000;

/** Counts arrivals; `reach(n)` resolves once n have arrived. */
export class Counter {
  count = 0;
  private target = Infinity;
  private wake: (() => void) | undefined;
  hit(): void {
    if (++this.count >= this.target && this.wake !== undefined) {
      const w = this.wake;
      this.wake = undefined;
      this.target = Infinity;
      w();
    }
  }
  reach(n: number): Promise<void> {
    if (this.count >= n) return Promise.resolve();
    this.target = n;
    return new Promise((resolve, reject) => {
      let seen = this.count;
      const watch = setInterval(() => {
        if (this.count !== seen) seen = this.count;
        else {
          clearInterval(watch);
          reject(new Error(`stalled at ${this.count} of ${n} messages: some were dropped`));
        }
      }, STALL_MS);
      this.wake = () => {
        clearInterval(watch);
        resolve();
      };
    });
  }
}

/** Sends `total` messages keeping at most `window` unacknowledged; returns messages/s. */
export async function paced(total: number, window: number, counter: Counter, sendOne: () => void): Promise<number> {
  const start = counter.count;
  const t0 = performance.now();
  for (let sent = 0; sent < total; ) {
    const burst = Math.min(window / 2, total - sent);
    for (let i = 0; i < burst; i++) sendOne();
    sent += burst;
    await counter.reach(start + sent - window / 2);
  }
  await counter.reach(start + total);
  return (total / (performance.now() - t0)) * 1000;
}

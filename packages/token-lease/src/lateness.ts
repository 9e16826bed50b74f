/** Recent expiry lateness samples (expiry → revocation, ms), for percentiles and metrics. */
export class LatenessRecorder {
  private readonly samples: number[] = [];
  private next = 0;
  private total = 0;
  private maxSeen = 0;

  constructor(private readonly capacity = 10_000) {}

  record(ms: number): void {
    const value = Math.max(0, ms);
    if (this.samples.length < this.capacity) this.samples.push(value);
    else this.samples[this.next] = value;
    this.next = (this.next + 1) % this.capacity;
    this.total++;
    if (value > this.maxSeen) this.maxSeen = value;
  }

  /** Revocations measured since start. */
  get count(): number {
    return this.total;
  }

  /** The p-th percentile (0..100) of the recent samples, 0 when there are none. */
  percentile(p: number): number {
    if (this.samples.length === 0) return 0;
    const sorted = [...this.samples].sort((a, b) => a - b);
    const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
    return sorted[rank]!;
  }

  summary(): { count: number; p50: number; p99: number; max: number } {
    return { count: this.total, p50: this.percentile(50), p99: this.percentile(99), max: this.maxSeen };
  }
}

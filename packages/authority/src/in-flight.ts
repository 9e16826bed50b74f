/** What InFlight.start answers: a slot, or which limit is reached. */
export type Admission = 'started' | 'caller-full' | 'full';

/**
 * Counts requests in flight, per caller and in all: at most `perCaller` of one
 * caller and `total` of all run at once; the caller is told at once when there
 * is no room (nothing waits, so nothing queues). Only callers with requests in
 * flight are kept, so the map is bounded by `total`.
 */
export class InFlight {
  private readonly byCaller = new Map<string, number>();
  private running = 0;
  private waiters: Array<() => void> = [];

  constructor(private readonly limits: { perCaller: number; total: number }) {}

  start(caller: string): Admission {
    if (this.running >= this.limits.total) return 'full';
    const mine = this.byCaller.get(caller) ?? 0;
    if (mine >= this.limits.perCaller) return 'caller-full';
    this.byCaller.set(caller, mine + 1);
    this.running += 1;
    return 'started';
  }

  end(caller: string): void {
    const mine = this.byCaller.get(caller) ?? 0;
    if (mine <= 1) this.byCaller.delete(caller);
    else this.byCaller.set(caller, mine - 1);
    this.running = Math.max(0, this.running - 1);
    if (this.running === 0) for (const wake of this.waiters.splice(0)) wake();
  }

  /** Resolves when nothing is in flight. */
  idle(): Promise<void> {
    if (this.running === 0) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  stats(): { running: number; callers: number } {
    return { running: this.running, callers: this.byCaller.size };
  }
}

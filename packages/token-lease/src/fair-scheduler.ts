/** Limits of a FairScheduler. */
export interface FairSchedulerLimits {
  /** Jobs running at once, over all keys. */
  concurrency: number;
  /** Jobs of one key running at once. */
  perKey: number;
  /** Jobs of one key waiting; one more is refused. */
  perKeyQueue: number;
  /** Jobs waiting over all keys; one more is refused. */
  queue: number;
}

interface KeyState {
  waiting: (() => Promise<void>)[];
  running: number;
  /** Exempt from the per-key limits (admins). */
  unlimited: boolean;
  /** Whether the key is in `turns`. */
  inTurns: boolean;
}

/**
 * Runs jobs with bounded concurrency, fairly between keys (lease owners): each
 * key waits in its own queue, keys take turns one job at a time (round robin),
 * and no key runs more than `perKey` at once. Queues are bounded: a job that
 * cannot wait is refused at once, never queued without bound.
 */
export class FairScheduler {
  private running = 0;
  private queued = 0;
  private readonly keys = new Map<string, KeyState>();
  /** Keys with a job waiting and room to run it, each once, in turn order. */
  private turns: string[] = [];
  private idleWaiters: (() => void)[] = [];

  constructor(private readonly limits: FairSchedulerLimits) {}

  /** Queues `job` under `key`; `key-full` or `full` (and `job` is dropped) when it cannot wait. */
  submit(key: string, job: () => Promise<void>, unlimited = false): 'accepted' | 'key-full' | 'full' {
    const state = this.keys.get(key) ?? { waiting: [], running: 0, unlimited, inTurns: false };
    if (!unlimited && state.waiting.length >= this.limits.perKeyQueue) return 'key-full';
    if (this.queued >= this.limits.queue) return 'full';
    this.keys.set(key, state);
    state.waiting.push(job);
    this.queued++;
    this.offerTurn(key, state);
    this.dispatch();
    return 'accepted';
  }

  /** Jobs running and waiting now. */
  stats(): { running: number; queued: number; keys: number } {
    return { running: this.running, queued: this.queued, keys: this.keys.size };
  }

  /** Resolves once nothing runs or waits. */
  idle(): Promise<void> {
    if (this.running === 0 && this.queued === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  private offerTurn(key: string, state: KeyState): void {
    if (state.inTurns || state.waiting.length === 0) return;
    if (!state.unlimited && state.running >= this.limits.perKey) return;
    state.inTurns = true;
    this.turns.push(key);
  }

  private dispatch(): void {
    while (this.running < this.limits.concurrency && this.turns.length > 0) {
      const key = this.turns.shift()!;
      const state = this.keys.get(key)!;
      state.inTurns = false;
      const job = state.waiting.shift()!;
      this.queued--;
      this.running++;
      state.running++;
      this.offerTurn(key, state);
      void this.run(key, state, job);
    }
  }

  private async run(key: string, state: KeyState, job: () => Promise<void>): Promise<void> {
    try {
      await job();
    } catch {
      // a job reports its own failures; the scheduler only keeps count
    } finally {
      this.running--;
      state.running--;
      if (state.running === 0 && state.waiting.length === 0) this.keys.delete(key);
      else this.offerTurn(key, state);
      this.dispatch();
      if (this.running === 0 && this.queued === 0) for (const resolve of this.idleWaiters.splice(0)) resolve();
    }
  }
}

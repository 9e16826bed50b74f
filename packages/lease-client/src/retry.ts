import { backoffDelay, type BackoffPolicy, type Clock, ClosedError, describeError } from '@tessera/core';
import { LeaseUnavailableError } from './errors.js';

/** How transient failures are retried: core's back-off, bounded in attempts. */
export interface RetryPolicy extends BackoffPolicy {
  /** Attempts in all, the first included. */
  maxAttempts: number;
}

/** 200 ms doubling to 10 s, ±20 %, 6 attempts (about 6 s of waiting, plus the request timeouts). */
export const DEFAULT_RETRY: RetryPolicy = { initialDelay: 200, maxDelay: 10_000, factor: 2, jitter: 0.2, maxAttempts: 6 };

export interface RetryHooks {
  /** Whether a failure is worth another attempt. */
  transient(err: unknown): boolean;
  sleep(ms: number): Promise<void>;
  random(): number;
  /** Told before each wait. */
  retrying?(attempt: number, delay: number, err: unknown): void;
}

/** Runs `attempt` until it succeeds, fails for good, or has failed transiently `maxAttempts` times (then LeaseUnavailableError). */
export async function withRetry<T>(what: string, attempt: () => Promise<T>, policy: RetryPolicy, hooks: RetryHooks): Promise<T> {
  for (let n = 1; ; n++) {
    try {
      return await attempt();
    } catch (err) {
      if (!hooks.transient(err)) throw err;
      if (n >= policy.maxAttempts) {
        throw new LeaseUnavailableError(`${what}: hub unavailable after ${n} attempts (last: ${describeError(err).message})`, n, { cause: err });
      }
      const delay = backoffDelay(n - 1, policy, hooks.random);
      hooks.retrying?.(n, delay, err);
      await hooks.sleep(delay);
    }
  }
}

/** Sleeps on a clock that can all be cut short at once (on stop) with a ClosedError. */
export class Sleeper {
  private readonly sleeping = new Map<unknown, (err: Error) => void>();
  private closed: Error | undefined;

  constructor(private readonly clock: Clock) {}

  sleep(ms: number): Promise<void> {
    if (this.closed !== undefined) return Promise.reject(this.closed);
    return new Promise<void>((resolve, reject) => {
      const handle = this.clock.setTimeout(() => {
        this.sleeping.delete(handle);
        resolve();
      }, ms);
      this.sleeping.set(handle, reject);
    });
  }

  /** Fails every sleep now and later. */
  close(reason = 'lease client stopped'): void {
    this.closed = new ClosedError(reason);
    for (const [handle, reject] of this.sleeping) {
      this.clock.clearTimeout(handle);
      reject(this.closed);
    }
    this.sleeping.clear();
  }
}

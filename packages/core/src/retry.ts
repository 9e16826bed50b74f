import { backoffDelay, type BackoffPolicy } from './backoff.js';
import { type Clock, sleep } from './clock.js';
import { defineError } from './errors.js';

/** Core's back-off, bounded in attempts. */
export interface RetryPolicy extends BackoffPolicy {
  /** Attempts in all, the first included. */
  maxAttempts: number;
}

export interface RetryOptions {
  policy: RetryPolicy;
  /** The waits run on it: tests pass a fake one. */
  clock: Clock;
  /** Whether a failure is worth another attempt; default: every one. */
  shouldRetry?: (err: unknown, attempt: number) => boolean;
  /** Told before each wait: the attempt that failed (the first is 1), the wait in ms, the failure. */
  onRetry?: (attempt: number, delay: number, err: unknown) => void;
  /** Aborting it ends a wait at once; the retry then rejects with the signal's reason. */
  signal?: AbortSignal;
  /** Jitter source; default Math.random. */
  random?: () => number;
}

/** Every attempt failed in a way worth retrying; `cause` is the last failure. */
export class RetriesExhaustedError extends defineError('RetriesExhaustedError', 'RETRIES_EXHAUSTED') {
  constructor(
    /** Attempts made. */
    readonly attempts: number,
    options: { cause: unknown },
  ) {
    super(`gave up after ${attempts} attempts`, options);
  }
}

/**
 * Runs `attempt` until it succeeds, fails in a way not worth retrying (that
 * error is thrown), or has failed `policy.maxAttempts` times
 * (RetriesExhaustedError); waits `backoffDelay` on `clock` in between.
 */
export async function retry<T>(attempt: (n: number) => Promise<T>, options: RetryOptions): Promise<T> {
  const { policy, clock, signal } = options;
  for (let n = 1; ; n++) {
    try {
      return await attempt(n);
    } catch (err) {
      if (options.shouldRetry !== undefined && !options.shouldRetry(err, n)) throw err;
      if (n >= policy.maxAttempts) throw new RetriesExhaustedError(n, { cause: err });
      const delay = backoffDelay(n - 1, policy, options.random);
      options.onRetry?.(n, delay, err);
      await sleep(delay, clock, signal);
      signal?.throwIfAborted();
    }
  }
}

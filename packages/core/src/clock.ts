/** Time as the runtime sees it; tests pass a fake one (e.g. @sinonjs/fake-timers). */
export interface Clock {
  now(): number;
  setTimeout(callback: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

export const systemClock: Clock = {
  now: () => Date.now(),
  setTimeout: (callback, ms) => setTimeout(callback, ms),
  clearTimeout: (handle) => clearTimeout(handle as ReturnType<typeof setTimeout>),
};

/** Waits `ms` on `clock`; ends early, without error, when `signal` aborts (at once if it has). */
export function sleep(ms: number, clock: Clock, signal?: AbortSignal): Promise<void> {
  if (signal?.aborted === true) return Promise.resolve();
  return new Promise((resolve) => {
    const done = (): void => {
      clock.clearTimeout(handle);
      signal?.removeEventListener('abort', done);
      resolve();
    };
    const handle = clock.setTimeout(done, ms);
    signal?.addEventListener('abort', done, { once: true });
  });
}

/** setTimeout's largest delay, 2^31 − 1 ms (about 24.8 days): Node fires a longer one after 1 ms. */
export const MAX_TIMER_DELAY = 2 ** 31 - 1;

/** A timer of setLongTimeout. */
export interface LongTimeout {
  /** Stops it; nothing fires afterwards. Idempotent. */
  cancel(): void;
}

/**
 * Calls `callback` once, `ms` from now on `clock`, however long that is: a
 * wait past MAX_TIMER_DELAY is taken in pieces, each re-armed for what is
 * left, so it never fires early. A negative (or NaN) delay is 0.
 */
export function setLongTimeout(clock: Clock, callback: () => void, ms: number): LongTimeout {
  const due = clock.now() + (ms > 0 ? ms : 0);
  let armed = true;
  let handle: unknown;
  const arm = (): void => {
    handle = clock.setTimeout(() => {
      if (!armed) return;
      if (clock.now() < due) return arm();
      armed = false;
      callback();
    }, Math.min(MAX_TIMER_DELAY, Math.max(0, due - clock.now())));
  };
  arm();
  return {
    cancel() {
      if (!armed) return;
      armed = false;
      clock.clearTimeout(handle);
    },
  };
}

// Waiting on the event loop in tests: turns, never sleeps.

/** Lets real I/O and promise chains run until `done()` holds: polls once per event-loop turn, never sleeps. */
export async function until(done: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (!done()) {
    if (Date.now() > deadline) throw new Error(`gave up waiting for ${what}`);
    await new Promise((resolve) => setImmediate(resolve));
  }
}

/** A few event-loop turns: enough for anything a timer set off to reach the node's router. */
export async function settle(turns = 20): Promise<void> {
  for (let i = 0; i < turns; i++) await new Promise((resolve) => setImmediate(resolve));
}

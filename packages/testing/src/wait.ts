/**
 * Polls `condition` until it holds and fails, naming `what`, after `timeoutMs`:
 * a wait for something to happen, bounded, never a sleep that passes by luck.
 */
export async function waitUntil(what: string, condition: () => boolean | Promise<boolean>, timeoutMs = 10_000, intervalMs = 5): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await condition()) return;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}

/** The error `promise` rejects with; fails the test if it resolves. */
export async function rejection<E extends Error = Error & { status?: number }>(promise: Promise<unknown>): Promise<E> {
  try {
    await promise;
  } catch (err) {
    return err as E;
  }
  throw new Error('expected a rejection');
}

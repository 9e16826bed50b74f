/** Exponential back-off with jitter: attempt 0 waits about `initial`, each next `factor` times more, up to `max`. */
export function backoffDelay(
  attempt: number,
  policy: { initialDelay: number; maxDelay: number; factor: number; jitter: number },
  random: () => number = Math.random,
): number {
  const base = Math.min(policy.maxDelay, policy.initialDelay * policy.factor ** attempt);
  const spread = base * policy.jitter;
  return Math.max(0, Math.round(base - spread + random() * 2 * spread));
}

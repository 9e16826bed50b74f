export interface BackoffPolicy {
  /** Delay of attempt 0, in ms. */
  initialDelay: number;
  /** Largest delay, in ms. */
  maxDelay: number;
  /** Growth per attempt. */
  factor: number;
  /** Fraction of the delay added or taken at random (0.2 = ±20 %). */
  jitter: number;
}

/** Exponential back-off with jitter: attempt 0 waits about `initialDelay`, each next `factor` times more, up to `maxDelay`. */
export function backoffDelay(
  attempt: number,
  policy: BackoffPolicy,
  random: () => number = Math.random,
): number {
  const base = Math.min(policy.maxDelay, policy.initialDelay * policy.factor ** attempt);
  const spread = base * policy.jitter;
  return Math.max(0, Math.round(base - spread + random() * 2 * spread));
}

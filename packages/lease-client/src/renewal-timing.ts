/** When to renew: at `renewAt` of the remaining time, moved by up to ±`jitter` of that point. */
export interface RenewalTiming {
  /** Fraction of the remaining time, 0 < renewAt < 1 (Vault's LifetimeWatcher uses 2/3). */
  renewAt: number;
  /** Fraction of the renewal point added or taken at random, 0 ≤ jitter < 1. */
  jitter: number;
}

export const DEFAULT_RENEWAL_TIMING: RenewalTiming = { renewAt: 2 / 3, jitter: 0.1 };

/**
 * Milliseconds to wait before renewing a lease with `remaining` ms left:
 * `remaining × renewAt × (1 ± jitter)`, with `random()` = 0 giving the earliest
 * point and 1 the latest. Spreading the point keeps a fleet of devices that
 * started together from renewing together.
 */
export function renewalDelay(remaining: number, timing: RenewalTiming, random: () => number): number {
  if (remaining <= 0) return 0;
  const r = Math.min(1, Math.max(0, random()));
  const fraction = timing.renewAt * (1 - timing.jitter + 2 * timing.jitter * r);
  return Math.min(remaining, Math.max(0, Math.round(remaining * fraction)));
}

/** The earliest and latest renewal delays `renewalDelay` can give for `remaining` ms. */
export function renewalWindow(remaining: number, timing: RenewalTiming): { earliest: number; latest: number } {
  return { earliest: renewalDelay(remaining, timing, () => 0), latest: renewalDelay(remaining, timing, () => 1) };
}

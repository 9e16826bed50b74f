import type { Clock } from '@tessera/core';

/** An identity's bucket: requests left at `at` (ms). */
interface Bucket {
  tokens: number;
  at: number;
}

/**
 * Requests per identity on a secure hub, taken before anything costs the hub a
 * lookup: a token bucket of `burst` requests refilling at `perSecond`.
 * Identities are outside input, so at most `maxIdentities` buckets are kept;
 * past that a refilled bucket among the least recently seen is forgotten (else
 * the least recent), and a forgotten identity starts again with a full bucket.
 */
export class IdentityRequestBudget {
  // insertion order = order of last request: the least recent are at the front
  private readonly buckets = new Map<string, Bucket>();

  constructor(
    private readonly perSecond: number,
    private readonly burst: number,
    private readonly clock: Clock,
    private readonly maxIdentities = DEFAULT_MAX_BUDGET_IDENTITIES,
  ) {}

  /** Takes one request for `identity`: false when it has none left now. */
  take(identity: string): boolean {
    const now = this.clock.now();
    const bucket = this.buckets.get(identity);
    const tokens = bucket === undefined ? this.burst : Math.min(this.burst, bucket.tokens + ((now - bucket.at) * this.perSecond) / 1_000);
    this.buckets.delete(identity);
    this.buckets.set(identity, { tokens: tokens >= 1 ? tokens - 1 : tokens, at: now });
    if (this.buckets.size > this.maxIdentities) this.forgetOne(now);
    return tokens >= 1;
  }

  /**
   * Forgets a bucket: the least recent of the first few that have refilled (forgetting
   * one loses nothing), else the least recent. Identities made by the thousand then push
   * out each other, not a flooder's own empty bucket.
   */
  private forgetOne(now: number): void {
    let looked = 0;
    for (const [identity, bucket] of this.buckets) {
      if (bucket.tokens + ((now - bucket.at) * this.perSecond) / 1_000 >= this.burst) {
        this.buckets.delete(identity);
        return;
      }
      if (++looked >= REFILLED_SCAN) break;
    }
    this.buckets.delete(this.buckets.keys().next().value!);
  }

  /** Identities remembered now (for tests and metrics). */
  get size(): number {
    return this.buckets.size;
  }
}

/** Identities whose budgets are remembered when no other bound is given. */
export const DEFAULT_MAX_BUDGET_IDENTITIES = 10_000;

/** How many of the least recent buckets are looked at for a refilled one before the least recent is forgotten. */
const REFILLED_SCAN = 64;

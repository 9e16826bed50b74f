import type { Clock } from '@tessera/core';
import { QuotaExceededError } from './service-errors.js';

const MINUTE = 60_000;

/**
 * Per-owner create rate: a token bucket of `perMinute` creates that refills
 * continuously (a burst of `perMinute`, then one every 60/`perMinute` s).
 * Owners are outside input, so the map is bounded: an owner whose bucket has
 * refilled is the same as one never seen and is forgotten, and past
 * `maxOwners` the least recent is forgotten even if not yet refilled.
 */
export class CreateRateLimiter {
  // insertion order = order of last create: the idle ones are at the front
  private readonly buckets = new Map<string, { tokens: number; at: number }>();
  private readonly perMs: number;

  constructor(
    private readonly perMinute: number,
    private readonly clock: Clock,
    private readonly maxOwners = 100_000,
  ) {
    this.perMs = perMinute / MINUTE;
  }

  /** Takes one create for `owner`, or throws QuotaExceededError saying when the next is possible. */
  take(owner: string): void {
    const now = this.clock.now();
    this.forgetIdle(now);
    const bucket = this.buckets.get(owner);
    const tokens = bucket === undefined ? this.perMinute : this.refilled(bucket, now);
    if (tokens < 1) {
      const wait = Math.ceil((1 - tokens) / this.perMs);
      throw new QuotaExceededError(`at most ${this.perMinute} creates per minute per caller; the next one is possible in ${wait} ms`);
    }
    this.buckets.delete(owner);
    this.buckets.set(owner, { tokens: tokens - 1, at: now });
    if (this.buckets.size > this.maxOwners) this.buckets.delete(this.buckets.keys().next().value!);
  }

  /** Owners remembered now (for tests and metrics). */
  get size(): number {
    return this.buckets.size;
  }

  private refilled(bucket: { tokens: number; at: number }, now: number): number {
    return Math.min(this.perMinute, bucket.tokens + (now - bucket.at) * this.perMs);
  }

  private forgetIdle(now: number): void {
    // a bucket refills within a minute of its last create, so everything older is at the front
    for (const [owner, bucket] of this.buckets) {
      if (this.refilled(bucket, now) < this.perMinute) return;
      this.buckets.delete(owner);
    }
  }
}

import type { Clock } from '@tessera/core';
import { QuotaExceededError } from './service-errors.js';

const MINUTE = 60_000;

/** An owner's bucket: tokens left at `at`, refilling at `perMinute` (the owner's rate when it last created). */
interface Bucket {
  tokens: number;
  at: number;
  perMinute: number;
}

/**
 * Per-owner create rate: a token bucket of `perMinute` creates that refills
 * continuously (a burst of `perMinute`, then one every 60/`perMinute` s); each
 * owner may have a rate of its own (`take(owner, perMinute)`).
 * Owners are outside input, so the map is bounded: an owner whose bucket has
 * refilled is the same as one never seen and is forgotten, and past
 * `maxOwners` the least recent is forgotten even if not yet refilled.
 */
export class CreateRateLimiter {
  // insertion order = order of last create: the idle ones are at the front
  private readonly buckets = new Map<string, Bucket>();

  constructor(
    /** The rate of an owner whose `take` names none. */
    private readonly perMinute: number,
    private readonly clock: Clock,
    private readonly maxOwners = 100_000,
  ) {}

  /** Takes one create for `owner` at its rate `perMinute`, or throws QuotaExceededError saying when the next is possible. */
  take(owner: string, perMinute = this.perMinute): void {
    const now = this.clock.now();
    this.forgetIdle(now);
    const bucket = this.buckets.get(owner);
    const tokens = bucket === undefined ? perMinute : refilled({ ...bucket, perMinute }, now);
    if (tokens < 1) {
      const wait = Math.ceil(((1 - tokens) * MINUTE) / perMinute);
      throw new QuotaExceededError(`at most ${perMinute} creates per minute per caller; the next one is possible in ${wait} ms`);
    }
    this.buckets.delete(owner);
    this.buckets.set(owner, { tokens: tokens - 1, at: now, perMinute });
    if (this.buckets.size > this.maxOwners) this.buckets.delete(this.buckets.keys().next().value!);
  }

  /** Owners remembered now (for tests and metrics). */
  get size(): number {
    return this.buckets.size;
  }

  private forgetIdle(now: number): void {
    // a bucket refills within a minute of its last create, so everything older is at the front
    for (const [owner, bucket] of this.buckets) {
      if (refilled(bucket, now) < bucket.perMinute) return;
      this.buckets.delete(owner);
    }
  }
}

function refilled(bucket: Bucket, now: number): number {
  return Math.min(bucket.perMinute, bucket.tokens + ((now - bucket.at) * bucket.perMinute) / MINUTE);
}

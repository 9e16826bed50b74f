import { type Clock, describeError, type Logger } from '@tessera/core';
import pLimit from 'p-limit';
import type { LeaseRecord } from './lease.js';
import type { StorageService } from './storage-service.js';

export interface ExpirySchedulerOptions {
  /** Leases claimed per storage round trip. */
  batchSize: number;
  /** Revocations in flight at once. */
  concurrency: number;
  /** How long a claim holds a lease against other hubs (ms); a hub that dies mid-revoke loses it after this. */
  claimMs: number;
  /** Longest sleep between looks at storage (ms): picks up leases other hubs saved, and lapsed claims. */
  maxSleep: number;
  /** Wait after storage fails before trying again (ms). */
  retryAfter: number;
}

/**
 * Wakes at the earliest due time in storage, claims what is due (atomically,
 * so several hubs on one store never take the same lease) and revokes it.
 */
export class ExpiryScheduler {
  private timer: unknown;
  private armedFor = Infinity;
  private running: Promise<void> | undefined;
  private stopped = true;
  private rerun = false;

  constructor(
    private readonly storage: StorageService,
    private readonly revoke: (record: LeaseRecord) => Promise<unknown>,
    private readonly clock: Clock,
    private readonly logger: Logger,
    private readonly options: ExpirySchedulerOptions,
  ) {}

  /** Starts: runs what is already due at once, then follows the due times. */
  start(): void {
    this.stopped = false;
    this.wake();
  }

  /** A lease now falls due at `at`: wake earlier if that is sooner than planned. */
  notify(at: number): void {
    if (this.stopped) return;
    if (at < this.armedFor) this.arm(Math.max(0, at - this.clock.now()));
  }

  /** Stops the timer and waits for the revocations in flight. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.clock.clearTimeout(this.timer);
    await this.running;
  }

  /** Claims and revokes everything due now; resolves after a round that began after this call (tests and start-up use it). */
  runDue(): Promise<void> {
    if (this.running === undefined) {
      this.running = this.rounds().finally(() => (this.running = undefined));
    } else {
      this.rerun = true;
    }
    return this.running;
  }

  private async rounds(): Promise<void> {
    do {
      this.rerun = false;
      await this.round();
    } while (this.rerun && !this.stopped);
  }

  private wake(): void {
    this.clock.clearTimeout(this.timer);
    this.armedFor = Infinity;
    void this.runDue();
  }

  private async round(): Promise<void> {
    let delay = this.options.maxSleep;
    try {
      for (;;) {
        const batch = await this.storage.claimDue(new Date(this.clock.now()), this.options.batchSize, this.options.claimMs);
        if (batch.length === 0) break;
        await pLimit(this.options.concurrency).map(batch, async (record) => {
          try {
            await this.revoke(record);
          } catch (err) {
            this.logger.warn({ lease: record.id, err: describeError(err) }, 'revocation round failed; the claim will lapse and it is retried');
          }
        });
        if (this.stopped) return;
      }
      const next = await this.storage.nextDue();
      if (next !== undefined) delay = Math.min(delay, Math.max(0, next.getTime() - this.clock.now()));
    } catch (err) {
      this.logger.warn({ err: describeError(err) }, 'expiry round failed (storage unavailable?); retrying');
      delay = this.options.retryAfter;
    }
    if (!this.stopped) this.arm(delay);
  }

  private arm(delay: number): void {
    this.clock.clearTimeout(this.timer);
    this.armedFor = this.clock.now() + delay;
    this.timer = this.clock.setTimeout(() => {
      this.armedFor = Infinity;
      void this.runDue();
    }, delay);
  }
}

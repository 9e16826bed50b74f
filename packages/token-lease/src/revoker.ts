import { backoffDelay, type BackoffPolicy, type Clock, describeError, type Logger } from '@tessera/core';
import type { CloudService } from './cloud-service.js';
import type { LeaseRecord } from './lease.js';
import type { LatenessRecorder } from './lateness.js';
import type { StorageService } from './storage-service.js';

/** Retry policy for failed revocations (as Vault: exponential, ±50 % jitter), default 1 s doubling up to 5 min. */
export const DEFAULT_REVOCATION_BACKOFF: BackoffPolicy = { initialDelay: 1_000, maxDelay: 300_000, factor: 2, jitter: 0.5 };

/** Who hears of revocations (the service turns these into its events). */
export interface RevocationListener {
  revoked(record: LeaseRecord, reason: 'expired' | 'requested', lateness: number | undefined): void;
  failed(record: LeaseRecord, attempts: number, error: string): void;
}

export interface RevokerCounters {
  revoked: number;
  failures: number;
}

/**
 * Revokes a lease: cloud first, then storage. A lease leaves storage only
 * after its token is gone; a failed cloud revoke is recorded on the lease and
 * retried later with back-off, never dropped.
 */
export class Revoker {
  readonly counters: RevokerCounters = { revoked: 0, failures: 0 };

  constructor(
    private readonly cloud: CloudService,
    private readonly storage: StorageService,
    private readonly clock: Clock,
    private readonly logger: Logger,
    readonly lateness: LatenessRecorder,
    private readonly backoff: BackoffPolicy = DEFAULT_REVOCATION_BACKOFF,
    private readonly random: () => number = Math.random,
    private readonly listener?: RevocationListener,
  ) {}

  /** Revokes now (on request or at expiry); true when the token is gone and the lease removed. */
  async revoke(record: LeaseRecord, reason: 'expired' | 'requested' | 'rollback'): Promise<boolean> {
    try {
      await this.cloud.revoke(record.id);
    } catch (err) {
      await this.scheduleRetry(record, err);
      return false;
    }
    if (reason === 'rollback') return true;
    // expiry and a revoke request can race for one lease: whoever removes it reports it, once
    if (!(await this.storage.remove(record.id))) return true;
    this.counters.revoked++;
    let lateness: number | undefined;
    if (reason === 'expired') {
      lateness = this.clock.now() - Date.parse(record.expires);
      this.lateness.record(lateness);
    }
    this.logger.info({ lease: record.id, owner: record.owner, reason }, 'lease revoked');
    this.listener?.revoked(record, reason, lateness);
    return true;
  }

  private async scheduleRetry(record: LeaseRecord, err: unknown): Promise<void> {
    this.counters.failures++;
    const attempts = (record.revocation?.attempts ?? 0) + 1;
    const delay = backoffDelay(attempts - 1, this.backoff, this.random);
    const nextAttempt = new Date(this.clock.now() + delay).toISOString();
    const lastError = describeError(err).message;
    this.logger.warn({ lease: record.id, attempts, nextAttempt, err: describeError(err) }, 'revocation failed; will retry');
    this.listener?.failed(record, attempts, lastError);
    try {
      await this.storage.reschedule(record.id, { attempts, lastError, nextAttempt });
    } catch (storageErr) {
      // the claim on the lease lapses by itself, so it is retried anyway
      this.logger.warn({ lease: record.id, err: describeError(storageErr) }, 'could not record the failed revocation');
    }
  }
}

import type { LeaseRecord, RevocationState } from './lease.js';

/** Which cloud service the leases in a storage belong to; leases are kept apart by it. */
export interface StorageNamespace {
  /** The cloud service's module name, e.g. `influxdb-v2`. */
  cloudService: string;
  /** The cloud service's address (`CloudService.getAddress()`). */
  cloudServiceAddress: string;
}

/** What survives a restart of the store. */
export interface StorageDurability {
  /** True when the store keeps its data across a restart, false when it keeps nothing, undefined when it cannot say. */
  persists: boolean | undefined;
  /** How it persists, in words (e.g. `appendonly yes (appendfsync everysec)`). */
  detail: string;
}

/** What `claimLease` found: the lease, now claimed by the caller; held by another claim; or gone. */
export type LeaseClaim = { state: 'claimed'; record: LeaseRecord } | { state: 'held' } | { state: 'gone' };

/**
 * Durable lease storage. Every lease has a due time: its expiry, or the time of
 * the next revocation attempt, or the end of a claim. Methods may throw a
 * StorageUnavailableError when the backing store cannot be reached.
 */
export interface StorageService {
  /** The module name, e.g. `memory` or `redis`. */
  readonly name: string;
  init(namespace: StorageNamespace): Promise<void>;
  /** Inserts or replaces a lease; its due time becomes its `expires`. */
  save(record: LeaseRecord): Promise<void>;
  /**
   * Replaces a lease only if it is still there, no revocation is pending and
   * none is claimed (atomically); its due time becomes its `expires`. False when
   * it was not replaced: a renewal must never bring back a lease that was
   * revoked meanwhile, nor one being revoked.
   */
  update(record: LeaseRecord): Promise<boolean>;
  get(leaseId: string): Promise<LeaseRecord | undefined>;
  /** Removes a lease; true if it was there. */
  remove(leaseId: string): Promise<boolean>;
  /** Every lease in the namespace. */
  getAll(): Promise<LeaseRecord[]>;
  /** How many leases the namespace holds. */
  count(): Promise<number>;
  /** The earliest due time in the namespace, or undefined when it is empty. */
  nextDue(): Promise<Date | undefined>;
  /**
   * Atomically claims up to `limit` leases due at or before `now`: each claimed
   * lease's due time moves to `now + claimMs`, so no other claimer (another hub
   * on the same store) gets it until that claim lapses, by `claimDue` or by
   * `claimLease`. Returns the claimed leases.
   */
  claimDue(now: Date, limit: number, claimMs: number): Promise<LeaseRecord[]>;
  /**
   * Claims one lease for its revocation (a revoke request), atomically and the
   * same way `claimDue` does, whatever its due time: unless a claim on it
   * (by `claimDue` or `claimLease`, here or through another instance on the
   * same store) holds at `now`, it is claimed until `now + claimMs` (its due time
   * moves there) and returned. So one revocation of a lease runs at a time: a
   * scheduled retry and a repeated request never both reach the cloud. `reschedule`
   * and `remove` end a claim; one whose claimer died lapses.
   */
  claimLease(leaseId: string, now: Date, claimMs: number): Promise<LeaseClaim>;
  /**
   * Claims the revocation of a token that has no lease (an orphan) for `claimMs`, atomically: of
   * several hubs on one store that find the same orphan, one gets true and revokes it, the others
   * get false while the claim holds (a claimer that dies leaves it to the next sweep after that).
   * Optional: a store only one hub uses need not have it.
   */
  claimOrphan?(tokenId: string, claimMs: number): Promise<boolean>;
  /** Records a failed revocation, ends the claim on it and sets the lease's due time to its next attempt. */
  reschedule(leaseId: string, revocation: RevocationState): Promise<void>;
  /** What survives a restart of the store, as last checked (optional: a store that cannot lose data need not say). */
  durability?(): StorageDurability | undefined;
  /**
   * Calls `listener` each time the store comes back without the leases it held
   * (a restart that kept nothing); the lease service then sweeps for orphans at
   * once. Returns a function that stops the calls.
   */
  onDataLoss?(listener: () => void): () => void;
  /** Releases connections and timers; a memory store writes its snapshot. */
  close(): Promise<void>;
}

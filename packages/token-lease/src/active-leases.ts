import pLimit from 'p-limit';
import { QuotaExceededError } from './service-errors.js';

/** A place held for one create: `commit` once its lease is stored, `cancel` if it failed. */
export interface Reservation {
  commit(leaseId: string): void;
  cancel(): void;
}

/**
 * Per-owner count of live leases plus creates under way, so that concurrent
 * creates cannot pass the quota together. It knows the leases this hub
 * created and those it read from storage (`learn`, at each reconciliation);
 * an owner at its limit has its leases checked against storage first, which
 * drops those another hub revoked. Memory: one entry per stored lease (each
 * `learn` forgets what storage no longer holds: owners are connections that
 * never come back, so nothing else would).
 */
export class ActiveLeases {
  private readonly held = new Map<string, Set<string>>();
  private readonly pending = new Map<string, number>();
  private readonly checking = new Map<string, Promise<void>>();
  /** Leases committed since the last `learn` (a subset of `held`): a read of storage under way may have missed them. */
  private recent = new Map<string, string>();

  constructor(
    /** The limit of an owner whose `reserve` names none. */
    private readonly max: number,
    /** Whether storage still holds a lease. */
    private readonly stored: (leaseId: string) => Promise<boolean>,
  ) {}

  /**
   * Holds a place for a create by `owner`, or throws QuotaExceededError when it
   * has `max` leases and creates under way (`max`: this owner's limit, by
   * default the one given at construction).
   */
  async reserve(owner: string, max = this.max): Promise<Reservation> {
    if (!this.hasRoom(owner, max)) {
      await this.check(owner);
      if (!this.hasRoom(owner, max)) throw new QuotaExceededError(`at most ${max} active leases per caller`);
    }
    this.pending.set(owner, (this.pending.get(owner) ?? 0) + 1);
    let open = true;
    const release = () => {
      open = false;
      const left = (this.pending.get(owner) ?? 1) - 1;
      if (left > 0) this.pending.set(owner, left);
      else this.pending.delete(owner);
    };
    return {
      commit: (leaseId) => {
        if (!open) return;
        release();
        this.add(owner, leaseId);
        this.recent.set(leaseId, owner);
      },
      cancel: () => {
        if (open) release();
      },
    };
  }

  /** A lease of `owner` is gone (revoked or expired). */
  remove(owner: string, leaseId: string): void {
    this.recent.delete(leaseId);
    const ids = this.held.get(owner);
    if (ids === undefined) return;
    ids.delete(leaseId);
    if (ids.size === 0) this.held.delete(owner);
  }

  /**
   * Leases read from storage: the counts become these, plus those committed
   * since the previous call (a read may have missed them); a lease storage no
   * longer holds is forgotten. One revoked while storage was read is dropped
   * by the next call, or by the check at the limit.
   */
  learn(records: Iterable<{ id: string; owner: string }>): void {
    const recent = this.recent;
    this.recent = new Map();
    this.held.clear();
    for (const r of records) this.add(r.owner, r.id);
    for (const [id, owner] of recent) this.add(owner, id);
  }

  /** Leases plus creates under way for `owner`. */
  count(owner: string): number {
    return (this.held.get(owner)?.size ?? 0) + (this.pending.get(owner) ?? 0);
  }

  private hasRoom(owner: string, max: number): boolean {
    return this.count(owner) < max;
  }

  private add(owner: string, leaseId: string): void {
    let ids = this.held.get(owner);
    if (ids === undefined) this.held.set(owner, (ids = new Set()));
    ids.add(leaseId);
  }

  /** Drops the owner's leases that storage no longer holds; concurrent checks of one owner share one pass. */
  private check(owner: string): Promise<void> {
    let running = this.checking.get(owner);
    if (running === undefined) {
      const ids = [...(this.held.get(owner) ?? [])];
      running = pLimit(16)
        .map(ids, async (id) => {
          if (!(await this.stored(id))) this.remove(owner, id);
        })
        .then(() => undefined)
        .finally(() => this.checking.delete(owner));
      this.checking.set(owner, running);
    }
    return running;
  }
}

import { EventEmitter } from 'node:events';
import { type Clock, describeError, type Logger, silentLogger, systemClock } from '@tessera/core';
import pLimit from 'p-limit';
import type { CloudService, CloudToken } from './cloud-service.js';
import { CloudUnavailableError, InvalidOptionsError } from './errors.js';
import { ActiveLeases } from './active-leases.js';
import { CreateRateLimiter } from './create-rate.js';
import { ExpiryScheduler, type ExpirySchedulerOptions } from './expiry-scheduler.js';
import { decidePrivileges, type GrantPolicy, type Privilege } from './grant.js';
import { LatenessRecorder } from './lateness.js';
import { type Lease, type LeaseRecord, toLease } from './lease.js';
import { type CallerQuotas, callerQuotasOf, DEFAULT_OWNER_QUOTAS, type OwnerQuotas } from './owner-quotas.js';
import type { LeaseDecider, LeaseDecision } from './policy/lease-decisions.js';
import { Revoker } from './revoker.js';
import { RevocationsUnderWay } from './revocations-under-way.js';
import { InvalidRequestError, LeaseNotFoundError, NotAllowedError, shownId } from './service-errors.js';
import type { StorageService } from './storage-service.js';
import { grantedTtl, type TtlPolicy } from './ttl-policy.js';

export { DEFAULT_OWNER_QUOTAS, type OwnerQuotas } from './owner-quotas.js';

/**
 * Who is asking: the owner recorded on leases they create (on a secure hub the
 * identifier of its identity), whether they may see everyone's, and the
 * attributes lease policies match on (a member's, from the authority).
 */
export interface Caller {
  owner: string;
  admin: boolean;
  attributes?: Readonly<Record<string, string>>;
}

/** How a requested revocation ended: the token is gone, the cloud failed (the hub retries), or another hub is revoking it now. */
type RequestedRevocation = 'revoked' | 'failed' | 'elsewhere';

/** Rounds of `revokeAllOf` at most: each waits for the owner's creates under way, then revokes what they stored. */
const REVOKE_ALL_ROUNDS = 8;

export interface LeaseServiceOptions {
  cloud: CloudService;
  storage: StorageService;
  policy: TtlPolicy;
  /**
   * What each caller's leases may hold (docs/protocol.md §4: the hub decides,
   * not the caller). Without it, every lease gets the cloud module's
   * configured default and a request naming privileges is refused.
   */
  grants?: GrantPolicy;
  /** Per-owner quotas (defaults: DEFAULT_OWNER_QUOTAS). */
  quotas?: OwnerQuotas;
  /**
   * Per-caller grant, TTL bounds and quotas (lease policies: `leaseDecisions`).
   * With it, `grants` is not given (the decision's grant is the grant), and a
   * caller it has no decision for may not create or renew (`not_allowed`);
   * `policy` and `quotas` stay the hub's (the bounds of `quotas.maxRateOwners`
   * and of the decider's defaults).
   */
  decisions?: LeaseDecider;
  clock?: Clock;
  logger?: Logger;
  scheduler?: Partial<ExpirySchedulerOptions>;
  random?: () => number;
  /**
   * A token younger than this (ms; by the cloud's creation time) is not taken
   * for an orphan at once: another hub may be between its cloud create and its
   * save. It is looked at again when it is that old. Default 30,000.
   */
  orphanGrace?: number;
  /**
   * How often (ms) to reconcile the cloud against storage after start: this is
   * what catches a token whose rollback failed too. 0: only when `reconcile()`
   * is called. Default 300,000 (5 min).
   */
  reconcileEvery?: number;
  /**
   * How soon (ms) to sweep for orphans after storage reports it lost its data
   * (`StorageService.onDataLoss`: a Redis restart that kept nothing), whatever
   * `reconcileEvery` says: those leases' tokens are orphans now. Default 1,000.
   */
  reconcileAfterLoss?: number;
}

/** What the service reports as it works (no token values). */
export interface LeaseServiceEvents {
  created: [{ id: string; owner: string; ttl: number; expires: string }];
  renewed: [{ id: string; owner: string; expires: string }];
  revoked: [{ id: string; owner: string; reason: 'expired' | 'requested'; lateness?: number }];
  'revocation-failed': [{ id: string; attempts: number; error: string }];
  /** A sweep for orphans ended; `revoked` at once (young ones are looked at later). */
  reconciled: [{ revoked: number }];
}

export interface LeaseServiceStats {
  created: number;
  revoked: number;
  revocationFailures: number;
  orphansRevoked: number;
  /** Sweeps for orphans that ended (at start, periodic, after a storage loss). */
  reconciliations: number;
  /** Expiry → revocation, ms, over recent expiries. */
  lateness: { count: number; p50: number; p99: number; max: number };
}

/**
 * The lease logic behind the `token_lease` worker (docs/protocol.md §4): create is
 * cloud create then storage save (undone if the save fails), every lease is
 * revoked at its expiry, and start-up revokes what fell due while the hub was
 * down and what the cloud holds without a lease.
 */
export class LeaseService extends EventEmitter<LeaseServiceEvents> {
  readonly cloud: CloudService;
  readonly storage: StorageService;
  readonly policy: TtlPolicy;
  private readonly clock: Clock;
  private readonly logger: Logger;
  private readonly revoker: Revoker;
  private readonly underWay = new RevocationsUnderWay();
  private readonly scheduler: ExpiryScheduler;
  private readonly creating = new Set<string>();
  private listing: Promise<LeaseRecord[]> | undefined;
  private created = 0;
  private orphansRevoked = 0;
  private readonly orphanGrace: number;
  /** How long a claim (of a due lease, or of an orphan's revocation) holds against other hubs. */
  private readonly claimMs: number;
  private readonly reconcileEvery: number;
  private readonly reconcileAfterLoss: number;
  private reconcileTimer: unknown;
  private reconciliations = 0;
  private sweeping = false;
  private sweepAgain = false;
  private running = false;
  private unwatchLoss: (() => void) | undefined;
  /** Young orphans to look at again, by token id: one timer each, however many sweeps find it meanwhile. */
  private readonly orphanChecks = new Map<string, unknown>();
  private readonly grants: GrantPolicy | undefined;
  private readonly decisions: LeaseDecider | undefined;
  private readonly quotas: CallerQuotas;
  private readonly active: ActiveLeases | undefined;
  private readonly createRate: CreateRateLimiter | undefined;
  /** Creates under way, by owner (at most as many as run at once): `revokeAllOf` waits for them. */
  private readonly inFlight = new Map<string, Set<Promise<unknown>>>();

  constructor(options: LeaseServiceOptions) {
    super();
    this.cloud = options.cloud;
    this.storage = options.storage;
    this.policy = options.policy;
    this.clock = options.clock ?? systemClock;
    if (options.grants !== undefined && options.decisions !== undefined) {
      throw new InvalidOptionsError('give grants or decisions, not both: a decision holds the grant');
    }
    this.decisions = options.decisions;
    const decisions = this.decisions;
    this.grants = decisions === undefined ? options.grants : (caller) => this.decisionFor(decisions, caller).grant;
    this.quotas = callerQuotasOf(options.quotas);
    // with decisions a caller's own quotas may be on where the hub's are off
    const perCaller = decisions !== undefined;
    if (this.quotas.maxActiveLeases > 0 || perCaller) {
      this.active = new ActiveLeases(this.quotas.maxActiveLeases, async (id) => (await this.storage.get(id)) !== undefined);
    }
    if (this.quotas.createsPerMinute > 0 || perCaller) {
      this.createRate = new CreateRateLimiter(this.quotas.createsPerMinute, this.clock, options.quotas?.maxRateOwners ?? DEFAULT_OWNER_QUOTAS.maxRateOwners);
    }
    this.logger = options.logger ?? silentLogger;
    this.orphanGrace = options.orphanGrace ?? 30_000;
    this.reconcileEvery = options.reconcileEvery ?? 300_000;
    this.reconcileAfterLoss = options.reconcileAfterLoss ?? 1_000;
    this.revoker = new Revoker(this.cloud, this.storage, this.clock, this.logger, new LatenessRecorder(), undefined, options.random, {
      revoked: (record, reason, lateness) => {
        this.active?.remove(record.owner, record.id);
        this.emit('revoked', { id: record.id, owner: record.owner, reason, ...(lateness === undefined ? {} : { lateness }) });
      },
      failed: (record, attempts, error) => this.emit('revocation-failed', { id: record.id, attempts, error }),
    });
    const scheduling: ExpirySchedulerOptions = { batchSize: 512, concurrency: 64, claimMs: 15_000, maxSleep: 1_000, retryAfter: 1_000, ...options.scheduler };
    this.claimMs = scheduling.claimMs;
    // a lease a request is revoking here is not revoked twice: the scheduler joins that revocation
    this.scheduler = new ExpiryScheduler(this.storage, (r) => this.underWay.run(r.id, () => this.revoker.revoke(r, 'expired')), this.clock, this.logger, scheduling);
  }

  /**
   * Connects the modules, then starts expiry: what is overdue is revoked at
   * once (in the background, while the service already serves). Call
   * `reconcile()` to sweep the cloud for orphans.
   */
  async start(): Promise<void> {
    await this.cloud.init();
    await this.storage.init({ cloudService: this.cloud.name, cloudServiceAddress: this.cloud.getAddress() });
    this.scheduler.start();
    this.running = true;
    if (this.reconcileEvery > 0) this.scheduleReconcile(this.reconcileEvery);
    this.unwatchLoss = this.storage.onDataLoss?.(() => {
      this.logger.warn({ in: this.reconcileAfterLoss }, 'storage lost its leases: sweeping for orphan tokens soon');
      this.scheduleReconcile(this.reconcileAfterLoss);
    });
  }

  /** (Re)sets the one sweep timer to `delay` from now. */
  private scheduleReconcile(delay: number): void {
    if (!this.running) return;
    if (this.reconcileTimer !== undefined) this.clock.clearTimeout(this.reconcileTimer);
    this.reconcileTimer = this.clock.setTimeout(() => {
      this.reconcileTimer = undefined;
      void this.sweep();
    }, delay);
  }

  /** One background sweep at a time: a sweep asked for while one runs follows it at once. */
  private async sweep(): Promise<void> {
    if (this.sweeping) {
      this.sweepAgain = true;
      return;
    }
    this.sweeping = true;
    try {
      do {
        this.sweepAgain = false;
        try {
          await this.reconcile();
        } catch (err) {
          this.logger.warn({ err: describeError(err) }, 'reconciliation failed; trying again later');
        }
      } while (this.sweepAgain && this.running);
    } finally {
      this.sweeping = false;
      if (this.reconcileEvery > 0 && this.reconcileTimer === undefined) this.scheduleReconcile(this.reconcileEvery);
    }
  }

  async stop(): Promise<void> {
    this.running = false;
    this.unwatchLoss?.();
    this.unwatchLoss = undefined;
    this.clock.clearTimeout(this.reconcileTimer);
    this.reconcileTimer = undefined;
    for (const timer of this.orphanChecks.values()) this.clock.clearTimeout(timer);
    this.orphanChecks.clear();
    await this.scheduler.stop();
  }

  /**
   * Revokes every token the cloud calls managed (this deployment's) but storage has no lease for;
   * one younger than `orphanGrace` (or of unknown age) is looked at again when
   * it is that old. Runs at start (`startHub`), every `reconcileEvery`, and
   * `reconcileAfterLoss` after storage reports it lost its data.
   * Returns how many were revoked now.
   */
  async reconcile(): Promise<number> {
    // Storage first: a revocation deletes the token before it removes the lease, so a
    // token still listed after this read was stored then or never was. The other way
    // round, a lease revoked between the reads (by expiry, here or on another hub)
    // passed for an orphan and its token was deleted twice.
    const stored = await this.storage.getAll();
    // the quota learns of leases created before this start, or by other hubs
    this.active?.learn(stored);
    const known = new Set(stored.map((r) => r.id));
    const tokens = (await this.cloud.getAll()).filter((t) => t.managed);
    const orphans = tokens.filter((t) => !known.has(t.id) && !this.creating.has(t.id));
    const now = this.clock.now();
    // a token of unknown age (the cloud does not say) is given the whole grace from now
    const ageOf = (t: CloudToken) => (t.created === undefined ? 0 : now - Date.parse(t.created));
    const young = new Set(orphans.filter((t) => this.orphanGrace > 0 && ageOf(t) < this.orphanGrace));
    for (const token of young) {
      if (this.orphanChecks.has(token.id)) continue;
      const timer = this.clock.setTimeout(() => {
        this.orphanChecks.delete(token.id);
        // by now the token may have got its lease and lost it again (revoked): only one the cloud still holds is looked at
        void this.revokeIfOrphan(token.id, true).then((gone) => gone && this.orphansRevoked++);
      }, this.orphanGrace - ageOf(token));
      this.orphanChecks.set(token.id, timer);
    }
    let revoked = 0;
    await pLimit(16).map(
      orphans.filter((t) => !young.has(t)),
      async (token) => {
        if (await this.revokeIfOrphan(token.id)) revoked++;
      },
    );
    this.orphansRevoked += revoked;
    this.reconciliations++;
    this.emit('reconciled', { revoked });
    return revoked;
  }

  /** Revokes a cloud token if it still has no lease (and, `recheckCloud`, is still in the cloud); true if it did. */
  private async revokeIfOrphan(id: string, recheckCloud = false): Promise<boolean> {
    try {
      // look again right before revoking: a create may have saved it meanwhile
      if (this.creating.has(id) || (await this.storage.get(id)) !== undefined) return false;
      if (recheckCloud && (await this.cloud.get(id)) === undefined) return false;
      // another hub on the same store may have found it too: one of them revokes it
      if (this.storage.claimOrphan !== undefined && !(await this.storage.claimOrphan(id, this.claimMs))) return false;
      await this.cloud.revoke(id);
      this.logger.info({ lease: id }, 'orphan token revoked');
      return true;
    } catch (err) {
      this.logger.warn({ lease: id, err: describeError(err) }, 'orphan token could not be revoked; the next reconciliation retries');
      return false;
    }
  }

  /**
   * Creates a lease with the privileges the caller's grant allows (its default,
   * or the subset the options name), within the caller's TTL bounds and quotas.
   */
  create(caller: Caller, options: Record<string, unknown> & { ttl?: number | undefined }): Promise<Lease> {
    const creating = this.createFor(caller, options);
    // registered at once, before anything is awaited: `revokeAllOf` must see every create that has begun
    let owned = this.inFlight.get(caller.owner);
    if (owned === undefined) this.inFlight.set(caller.owner, (owned = new Set()));
    const tracked = creating.catch(() => undefined);
    owned.add(tracked);
    void tracked.then(() => {
      owned.delete(tracked);
      if (owned.size === 0 && this.inFlight.get(caller.owner) === owned) this.inFlight.delete(caller.owner);
    });
    return creating;
  }

  private async createFor(caller: Caller, options: Record<string, unknown> & { ttl?: number | undefined }): Promise<Lease> {
    const limits = this.limitsOf(caller);
    // the rate is taken first: every later step may cost the cloud or storage a request
    if (!caller.admin && limits.quotas.createsPerMinute > 0) this.createRate?.take(caller.owner, limits.quotas.createsPerMinute);
    const ttl = grantedTtl(limits.ttl, options.ttl);
    const { ttl: _ttl, ...cloudOptions } = options;
    const privileges = await this.privilegesFor(caller, cloudOptions);
    const max = limits.quotas.maxActiveLeases;
    const reservation = caller.admin || max <= 0 ? undefined : await this.active?.reserve(caller.owner, max);
    try {
      const lease = await this.createLease(caller, limits.ttl, ttl, cloudOptions, privileges);
      reservation?.commit(lease.id);
      return lease;
    } finally {
      reservation?.cancel();
    }
  }

  /** The TTL bounds and quotas that bind a caller: the hub's, or its decision's (NotAllowedError when it has none). */
  private limitsOf(caller: Caller): { ttl: TtlPolicy; quotas: CallerQuotas } {
    if (this.decisions === undefined) return { ttl: this.policy, quotas: this.quotas };
    return this.decisionFor(this.decisions, caller);
  }

  private decisionFor(decisions: LeaseDecider, caller: Caller): LeaseDecision {
    const decision = decisions(caller);
    if (decision === undefined) throw new NotAllowedError('no lease policy of this hub applies to this caller');
    return decision;
  }

  /** The privileges a create gets: decided by the caller's grant, never by the request alone. */
  private async privilegesFor(caller: Caller, cloudOptions: Record<string, unknown>): Promise<Privilege[] | undefined> {
    const requested = await this.cloud.requestedPrivileges(cloudOptions);
    if (this.grants === undefined) {
      if (requested !== undefined) throw new NotAllowedError('this hub grants its default privileges only; a request may not name any');
      return undefined;
    }
    return decidePrivileges(await this.grants(caller), requested);
  }

  private async createLease(
    caller: Caller,
    policy: TtlPolicy,
    ttl: number,
    cloudOptions: Record<string, unknown>,
    privileges: Privilege[] | undefined,
  ): Promise<Lease> {
    const now = this.clock.now();
    const issued = new Date(now);
    const expires = new Date(now + ttl);
    const request = { ttl, issued, expires, options: cloudOptions, ...(privileges === undefined ? {} : { privileges }) };
    const lease = await this.cloud.create(request);
    this.creating.add(lease.id);
    const record: LeaseRecord = {
      ...lease,
      ttl,
      issued: issued.toISOString(),
      expires: expires.toISOString(),
      renewable: policy.renewable && lease.renewable,
      owner: caller.owner,
      maxExpires: new Date(now + policy.maxTtl).toISOString(),
    };
    try {
      await this.storage.save(record);
    } catch (err) {
      // no orphan: the token must not outlive a lease nobody stored
      await this.revoker.revoke(record, 'rollback').catch(() => false);
      throw err;
    } finally {
      this.creating.delete(lease.id);
    }
    this.created++;
    this.scheduler.notify(expires.getTime());
    this.logger.info({ lease: record.id, owner: record.owner, ttl }, 'lease created');
    this.emit('created', { id: record.id, owner: record.owner, ttl, expires: record.expires });
    return toLease(record);
  }

  async get(caller: Caller, tokenId: string): Promise<Lease> {
    return toLease(await this.owned(caller, tokenId));
  }

  async revoke(caller: Caller, tokenId: string): Promise<void> {
    await this.owned(caller, tokenId);
    const outcome = await this.revokeRequested(tokenId);
    if (outcome === 'failed') {
      throw new CloudUnavailableError(`revocation of ${shownId(tokenId)} failed; the hub retries it until the token is gone`);
    }
    if (outcome === 'elsewhere') {
      throw new CloudUnavailableError(`revocation of ${shownId(tokenId)} is under way on another hub; it is retried until the token is gone`);
    }
  }

  /**
   * Revokes a lease on request, one revocation of it at a time: it claims the
   * lease in storage as the scheduler does (atomic, across hubs on one store),
   * or, when this hub revokes it already (its expiry or a scheduled retry, or
   * another request), waits for that revocation. A lease gone meanwhile was revoked.
   */
  private async revokeRequested(id: string): Promise<RequestedRevocation> {
    const outcome = (revoked: boolean): RequestedRevocation => (revoked ? 'revoked' : 'failed');
    const running = this.underWay.get(id);
    if (running !== undefined) return outcome(await running);
    const claim = await this.storage.claimLease(id, new Date(this.clock.now()), this.claimMs);
    if (claim.state === 'gone') return 'revoked';
    if (claim.state === 'held') {
      // the scheduler here may have claimed it while we asked
      const joined = this.underWay.get(id);
      return joined === undefined ? 'elsewhere' : outcome(await joined);
    }
    return outcome(await this.underWay.run(id, () => this.revoker.revoke(claim.record, 'requested')));
  }

  async renew(caller: Caller, tokenId: string, requestedTtl: number | undefined): Promise<Lease> {
    const limits = this.limitsOf(caller);
    const record = await this.owned(caller, tokenId);
    if (!record.renewable) throw new InvalidRequestError(`lease ${tokenId} is not renewable`);
    if (record.revocation !== undefined) throw new InvalidRequestError(`lease ${tokenId} is being revoked`);
    // without a ttl, the lease's own, brought within the caller's bounds (they may have changed since)
    const ttl = grantedTtl(limits.ttl, requestedTtl ?? Math.min(Math.max(record.ttl, limits.ttl.minTtl), limits.ttl.maxTtl));
    const now = this.clock.now();
    if (Date.parse(record.expires) <= now) throw new InvalidRequestError(`lease ${tokenId} has expired and is being revoked`);
    const expiresAt = Math.min(now + ttl, Date.parse(record.maxExpires));
    if (expiresAt <= now) throw new InvalidRequestError(`lease ${tokenId} has reached its maximum TTL`);
    const expires = new Date(expiresAt);
    await this.cloud.renew(tokenId, expiresAt - now, expires);
    const renewed: LeaseRecord = { ...record, ttl: expiresAt - now, expires: expires.toISOString() };
    // only if it is still there: a revoke or an expiry may have removed it while the cloud answered
    if (!(await this.storage.update(renewed))) throw new LeaseNotFoundError(tokenId);
    this.scheduler.notify(expiresAt);
    this.emit('renewed', { id: renewed.id, owner: renewed.owner, expires: renewed.expires });
    return toLease(renewed);
  }

  async list(caller: Caller): Promise<Lease[]> {
    // concurrent lists share one read of storage, so a burst of them holds one copy, not one each
    this.listing ??= this.storage.getAll().finally(() => (this.listing = undefined));
    const all = await this.listing;
    return all.filter((r) => caller.admin || r.owner === caller.owner).map(toLease);
  }

  /**
   * Revokes every lease of `owner` (the hub calls it when a member is
   * removed), those of creates under way when it is called included: it waits
   * for them, then revokes what they stored. Returns how many were revoked
   * now; a revocation that fails is retried by the hub, as at expiry, and is
   * not counted.
   */
  async revokeAllOf(owner: string): Promise<number> {
    let revoked = 0;
    for (let round = 0; round < REVOKE_ALL_ROUNDS; round++) {
      await Promise.all(this.inFlight.get(owner) ?? []);
      const records = (await this.storage.getAll()).filter((r) => r.owner === owner);
      const done = await pLimit(16).map(records, (record) => this.revokeRequested(record.id));
      revoked += done.filter((outcome) => outcome === 'revoked').length;
      if (!this.inFlight.has(owner)) break;
    }
    if (revoked > 0) this.logger.info({ owner, revoked }, 'leases of an owner revoked');
    return revoked;
  }

  /** Leases whose revocation failed and is being retried. */
  async pendingRevocations(): Promise<LeaseRecord[]> {
    return (await this.storage.getAll()).filter((r) => r.revocation !== undefined);
  }

  /** Claims and revokes what is due now (tests with a fake clock drive expiry through this). */
  runDue(): Promise<void> {
    return this.scheduler.runDue();
  }

  stats(): LeaseServiceStats {
    return {
      created: this.created,
      revoked: this.revoker.counters.revoked,
      revocationFailures: this.revoker.counters.failures,
      orphansRevoked: this.orphansRevoked,
      reconciliations: this.reconciliations,
      lateness: this.revoker.lateness.summary(),
    };
  }

  private async owned(caller: Caller, tokenId: string): Promise<LeaseRecord> {
    const record = await this.storage.get(tokenId);
    if (record === undefined) throw new LeaseNotFoundError(tokenId);
    // another caller's lease is "not found", word for word: a refusal would tell which ids exist
    if (!caller.admin && record.owner !== caller.owner) throw new LeaseNotFoundError(tokenId);
    return record;
  }
}

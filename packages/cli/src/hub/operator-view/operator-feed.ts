import { type Clock, describeError, type Logger } from '@tessera/core';
import type { HubEventBody, HubHealth, RevokeReason } from '@tessera/console';
import type { Authority, MemberStore } from '@tessera/authority';
import type { LeaseService, LeaseServiceEvents } from '@tessera/token-lease';
import type { IssueHistory } from './issue-history.js';
import type { LastSeen } from './last-seen.js';
import { leaseSummary, type OwnerDirectory, type RenewalCounts } from './lease-summaries.js';
import { memberSummary } from './operator-snapshot.js';
import type { Subscriptions } from './subscriptions.js';

/** Events being described (an owner's attributes looked up, a record read) at most; beyond, subscribers are told of a gap. */
const MAX_PENDING = 10_000;
/** How often the hub looks at its health while someone subscribes (ms); a change is sent as a `health` event. */
export const HEALTH_EVERY = 5_000;
/** How long after a member's removal a requested revocation of its lease is told as `member_removed` (ms). */
const REMOVAL_WINDOW = 300_000;
/** Removals remembered for that at most. */
const MAX_REMOVALS = 1_024;

export interface OperatorFeedSources {
  service: LeaseService;
  authority: Pick<Authority, 'on' | 'off'>;
  members: Pick<MemberStore, 'member'>;
  owners: OwnerDirectory;
  renewals: RenewalCounts;
  history: IssueHistory;
  lastSeen: LastSeen;
  subscriptions: Subscriptions;
  health: () => Promise<HubHealth>;
  clock: Clock;
  logger: Logger;
}

type Listener<E extends keyof LeaseServiceEvents> = (...args: LeaseServiceEvents[E]) => void;

/**
 * Turns what this hub's lease service and authority report into the
 * operator's events (docs/protocol.md §8), in the order they happened: each is
 * described (owner's attributes, the renewed record) one after the other, and
 * sent to every subscription. The history and renewal counts are kept whether
 * or not anyone subscribes. Leases another hub issues on the same storage are
 * not events here: they appear in the next snapshot.
 */
export class OperatorFeed {
  private chain: Promise<void> = Promise.resolve();
  private pending = 0;
  private readonly removals = new Map<string, number>();
  private healthTimer: unknown;
  private lastHealth: string | undefined;
  private readonly detach: (() => void)[] = [];

  constructor(private readonly sources: OperatorFeedSources) {}

  start(): void {
    const { service, authority } = this.sources;
    this.on(service, 'created', (e) => {
      this.sources.history.issued(this.now());
      this.enqueue(async (at) => {
        const lease = { id: e.id, owner: e.owner, ttl: e.ttl, expires: e.expires, issued: new Date(Date.parse(e.expires) - e.ttl).toISOString() };
        return { event: 'lease_issued', at, lease: leaseSummary(lease, await this.sources.owners.standing(e.owner), 0) };
      });
    });
    this.on(service, 'renewed', (e) => {
      const renewals = this.sources.renewals.renewed(e.id);
      this.enqueue(async (at) => {
        const record = await service.storage.get(e.id);
        if (record === undefined) return undefined; // revoked meanwhile: its lease_revoked follows
        return { event: 'lease_renewed', at, lease: leaseSummary(record, await this.sources.owners.standing(e.owner), renewals) };
      });
    });
    this.on(service, 'revoked', (e) => {
      this.sources.history.revoked(this.now());
      this.sources.renewals.ended(e.id);
      const reason = this.reasonOf(e.owner, e.reason);
      this.enqueue(async (at) => ({ event: 'lease_revoked', at, id: e.id, owner: e.owner, reason, ...(e.lateness === undefined ? {} : { lateness: e.lateness }) }));
    });
    const enrolled = ({ identifier }: { identifier: string }) =>
      this.enqueue(async (at) => {
        const member = await this.sources.members.member(identifier);
        return member === undefined ? undefined : { event: 'member_enrolled', at, member: memberSummary(member, 0, this.sources.lastSeen) };
      });
    const removed = (identifier: string) => {
      this.noteRemoval(identifier);
      this.enqueue(async (at) => ({ event: 'member_removed', at, identifier }));
    };
    authority.on('enrolled', enrolled);
    authority.on('removed', removed);
    this.detach.push(
      () => authority.off('enrolled', enrolled),
      () => authority.off('removed', removed),
    );
    this.armHealth();
  }

  stop(): void {
    for (const off of this.detach.splice(0)) off();
    this.sources.clock.clearTimeout(this.healthTimer);
    this.healthTimer = undefined;
  }

  /** Resolves once every event described so far is sent (tests). */
  idle(): Promise<void> {
    return this.chain;
  }

  private on<E extends keyof LeaseServiceEvents>(service: LeaseService, event: E, listener: Listener<E>): void {
    (service.on as (e: E, l: Listener<E>) => LeaseService)(event, listener);
    this.detach.push(() => (service.off as (e: E, l: Listener<E>) => LeaseService)(event, listener));
  }

  private now(): number {
    return this.sources.clock.now();
  }

  /** Describes one event after those before it, and sends it to every subscription; nothing when nobody subscribes. */
  private enqueue(describe: (at: string) => Promise<HubEventBody | undefined>): void {
    const { subscriptions } = this.sources;
    if (subscriptions.size === 0) return;
    if (this.pending >= MAX_PENDING) {
      for (const s of subscriptions.all()) s.missed(1);
      return;
    }
    const at = new Date(this.now()).toISOString();
    this.pending++;
    this.chain = this.chain.then(async () => {
      try {
        const body = await describe(at);
        if (body !== undefined) for (const s of subscriptions.all()) s.deliver(body);
      } catch (err) {
        // the event is lost for every subscriber: each is told
        this.sources.logger.warn({ err: describeError(err) }, "an operator's event could not be described");
        for (const s of subscriptions.all()) s.missed(1);
      } finally {
        this.pending--;
      }
    });
  }

  private reasonOf(owner: string, reason: 'expired' | 'requested'): RevokeReason {
    if (reason === 'expired') return 'expired';
    const removedAt = this.removals.get(owner);
    return removedAt !== undefined && this.now() - removedAt < REMOVAL_WINDOW ? 'member_removed' : 'revoked';
  }

  private noteRemoval(identifier: string): void {
    const now = this.now();
    this.removals.delete(identifier);
    this.removals.set(identifier, now);
    for (const [id, at] of this.removals) {
      if (this.removals.size <= MAX_REMOVALS && now - at < REMOVAL_WINDOW) break;
      this.removals.delete(id);
    }
  }

  /** Looks at the hub's health every HEALTH_EVERY while someone subscribes; a change goes out as a `health` event. */
  private armHealth(): void {
    this.healthTimer = this.sources.clock.setTimeout(() => {
      if (this.sources.subscriptions.size === 0) {
        this.lastHealth = undefined;
        this.armHealth();
        return;
      }
      this.enqueue(async (at) => {
        const health = await this.sources.health();
        const text = JSON.stringify(health);
        if (text === this.lastHealth) return undefined;
        this.lastHealth = text;
        return { event: 'health', at, health };
      });
      void this.chain.finally(() => {
        if (this.detach.length > 0) this.armHealth();
      });
    }, HEALTH_EVERY);
  }
}

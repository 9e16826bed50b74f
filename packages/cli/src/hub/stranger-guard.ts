import type { Clock } from '@tessera/core';
import type { ChannelEnd } from '@tessera/secure-channel';

/** The part of a channel end the guard uses. */
export type GuardedChannel = Pick<ChannelEnd, 'identifier' | 'isOpen' | 'closed' | 'close'>;

/** Options of a StrangerGuard. */
export interface StrangerGuardOptions {
  /** Whether this identifier is a member now (the authority's live membership); a throw counts as no. */
  isMember: (identifier: string) => Promise<boolean>;
  /** Timers (the hub node's clock). */
  clock: Clock;
  /** Stranger channels held at once (default 1,024); beyond, a new one takes the place of the oldest, which is closed (0: every one is closed at once). */
  maxStrangers?: number;
  /** Milliseconds a stranger's channel may stay open unless its peer has become a member by then (default 60,000). */
  grace?: number;
}

/** Counts of a StrangerGuard, for /metrics. */
export interface StrangerGuardStats {
  /** Stranger channels open now. */
  strangers: number;
  /** Stranger channels closed at once: the budget is 0. */
  refused: number;
  /** Stranger channels closed to make room for a newer one: the budget was full, they were the oldest. */
  evicted: number;
  /** Stranger channels closed at the end of their grace. */
  expired: number;
  /** Strangers whose peer had become a member by the end of their grace (enrolled): kept. */
  enrolled: number;
  /** Membership look-ups that failed (their channel was taken for a stranger's). */
  lookupFailures: number;
}

/**
 * Bounds what peers that are not members can hold at the hub
 * (docs/security.md): anyone who proves an identity may open a channel (a
 * device must, to enroll), but at most `maxStrangers` such channels are open
 * at once, and each closes after `grace` unless its peer has become a member
 * by then (enrollment takes one request). Members' channels are not its
 * business. Give it each channel the listener opens (`onChannel`).
 *
 * When the budget is full, a new stranger's channel takes the place of the
 * oldest, which is closed: a flood of fresh identities that keeps the budget
 * full cannot lock newcomers out. A newcomer needs its place only for the
 * round trip of its enrollment (which takes it out of the budget at once), so
 * it loses it only if `maxStrangers` newer strangers finish a handshake each
 * meanwhile; refusing the newest instead would let the flood hold every place
 * for `grace`.
 */
export class StrangerGuard {
  private readonly strangers = new Map<GuardedChannel, unknown>();
  private readonly maxStrangers: number;
  private readonly grace: number;
  private refused = 0;
  private evicted = 0;
  private expired = 0;
  private enrolled = 0;
  private lookupFailures = 0;

  constructor(private readonly options: StrangerGuardOptions) {
    this.maxStrangers = options.maxStrangers ?? 1_024;
    this.grace = options.grace ?? 60_000;
    if (!(Number.isInteger(this.maxStrangers) && this.maxStrangers >= 0)) throw new RangeError('maxStrangers is an integer, 0 or more');
    if (!(Number.isFinite(this.grace) && this.grace > 0)) throw new RangeError('grace is a positive number of milliseconds');
  }

  /** Looks the channel's peer up; a stranger's channel takes a place in the budget, or is closed at once when there is none. */
  readonly watch = (channel: GuardedChannel): void => {
    void this.isMember(channel).then((member) => {
      if (member || !channel.isOpen) return;
      if (this.maxStrangers === 0) {
        this.refused++;
        channel.close();
        return;
      }
      if (this.strangers.size >= this.maxStrangers) this.evictOldest();
      this.strangers.set(channel, this.options.clock.setTimeout(() => void this.endOfGrace(channel), this.grace));
      void channel.closed.then(() => this.forget(channel));
    });
  };

  /** The identity has just enrolled: its channels leave the strangers' budget now, not at the end of their grace. */
  admitted(identifier: string): void {
    for (const channel of [...this.strangers.keys()]) {
      if (channel.identifier !== identifier) continue;
      this.forget(channel);
      this.enrolled++;
    }
  }

  stats(): StrangerGuardStats {
    return {
      strangers: this.strangers.size,
      refused: this.refused,
      evicted: this.evicted,
      expired: this.expired,
      enrolled: this.enrolled,
      lookupFailures: this.lookupFailures,
    };
  }

  /** Closes the stranger channel that has held its place longest (a Map keeps insertion order). */
  private evictOldest(): void {
    const oldest = this.strangers.keys().next();
    if (oldest.done === true) return;
    this.forget(oldest.value);
    this.evicted++;
    oldest.value.close();
  }

  private async endOfGrace(channel: GuardedChannel): Promise<void> {
    const member = await this.isMember(channel);
    if (!this.strangers.has(channel)) return; // closed meanwhile
    this.forget(channel);
    if (member) {
      this.enrolled++;
      return;
    }
    this.expired++;
    channel.close();
  }

  private forget(channel: GuardedChannel): void {
    this.options.clock.clearTimeout(this.strangers.get(channel));
    this.strangers.delete(channel);
  }

  private async isMember(channel: GuardedChannel): Promise<boolean> {
    try {
      return await this.options.isMember(channel.identifier);
    } catch {
      // the member store is out: bounded as a stranger rather than held without bound
      this.lookupFailures++;
      return false;
    }
  }
}

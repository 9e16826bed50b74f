import { randomBytes } from 'node:crypto';
import type { Clock, Route } from '@tessera/core';
import { SUBSCRIPTION_LIMITS, type HubEvent, type HubEventBody } from '@tessera/console';

/** Sends one event to a subscriber's route; false when it could not be routed (its channel is gone). */
export type EventSender = (route: Route, event: HubEvent) => boolean;

export type SubscriptionLimits = { readonly [K in keyof typeof SUBSCRIPTION_LIMITS]: number };

/** Why a subscription ended. */
export type EndReason = 'expired' | 'not_admin' | 'unsubscribed' | 'channel_closed' | 'stopped';

/**
 * One subscriber of the operator's view (docs/protocol.md §8): events go to
 * the return route its subscribe came with (back through its secure channel),
 * numbered 1, 2, 3, …. At most `unacknowledged` may be sent and not yet
 * acknowledged (renew's `seq`); what comes beyond is counted, not sent, and
 * the count goes out as one `gap` as soon as there is room again. Until its
 * snapshot is answered, events wait (as many, then counted too), so none
 * falls between the snapshot and the first event.
 */
export class Subscription {
  readonly id = randomBytes(16).toString('hex');
  private seq = 0;
  private acked = 0;
  private dropped = 0;
  private waiting: HubEventBody[] | undefined = [];
  private ended = false;

  constructor(
    readonly identity: string,
    private readonly route: Route,
    private readonly send: EventSender,
    private readonly limits: SubscriptionLimits,
    private readonly now: () => number,
    private readonly onUnroutable: () => void,
  ) {}

  get isOpen(): boolean {
    return !this.ended;
  }

  /** Events sent so far (the last `seq`). */
  get sent(): number {
    return this.seq;
  }

  deliver(body: HubEventBody): void {
    if (this.ended) return;
    if (this.waiting !== undefined) {
      if (this.waiting.length < this.limits.unacknowledged) this.waiting.push(body);
      else this.dropped++;
      return;
    }
    this.sendGap();
    if (!this.hasRoom()) {
      this.dropped++;
      return;
    }
    this.emit(body);
  }

  /** The snapshot is answered: what waited goes out. */
  start(): void {
    const waiting = this.waiting ?? [];
    this.waiting = undefined;
    for (const body of waiting) this.deliver(body);
  }

  /** Counts events this subscriber missed that never reached it (the hub's feed fell behind). */
  missed(n: number): void {
    if (this.ended) return;
    this.dropped += n;
    if (this.waiting === undefined) this.sendGap();
  }

  /** The subscriber has every event up to `seq` (never beyond what was sent). */
  acknowledge(seq: number): void {
    this.acked = Math.max(this.acked, Math.min(seq, this.seq));
    this.sendGap();
  }

  /** Sends a last event, when the channel is still there to carry it, and ends. */
  end(last?: HubEventBody): void {
    if (this.ended) return;
    if (last !== undefined && this.waiting === undefined) this.emit(last);
    this.ended = true;
    this.waiting = undefined;
  }

  private hasRoom(): boolean {
    return this.seq - this.acked < this.limits.unacknowledged;
  }

  private sendGap(): void {
    if (this.dropped === 0 || !this.hasRoom()) return;
    const dropped = this.dropped;
    this.dropped = 0;
    this.emit({ event: 'gap', at: new Date(this.now()).toISOString(), dropped });
  }

  private emit(body: HubEventBody): void {
    this.seq++;
    if (!this.send(this.route, { ...body, subscription: this.id, seq: this.seq } as HubEvent)) this.onUnroutable();
  }
}

/**
 * The hub's subscriptions: at most `perHub`, `perIdentity` of one identity;
 * each ends `lifetime` ms after its subscribe or last renew (on the node's
 * clock), when its channel closes, or when unsubscribed.
 */
export class Subscriptions {
  private readonly byId = new Map<string, { subscription: Subscription; timer: unknown; channel: Set<Subscription> }>();
  /** The open subscriptions of each channel, by its `closed`: one wait on each channel's closing, however often it subscribes again. */
  private readonly byChannel = new WeakMap<Promise<unknown>, Set<Subscription>>();

  constructor(
    private readonly send: EventSender,
    private readonly clock: Clock,
    private readonly limits: SubscriptionLimits = SUBSCRIPTION_LIMITS,
  ) {}

  get size(): number {
    return this.byId.size;
  }

  /** A new subscription for `identity` at `route`, ending when `closed` settles; or which bound refused it. */
  open(identity: string, route: Route, closed: Promise<unknown>): Subscription | 'hub_full' | 'identity_full' {
    if (this.byId.size >= this.limits.perHub) return 'hub_full';
    let mine = 0;
    for (const { subscription } of this.byId.values()) if (subscription.identity === identity) mine++;
    if (mine >= this.limits.perIdentity) return 'identity_full';
    const subscription: Subscription = new Subscription(identity, route, this.send, this.limits, () => this.clock.now(), () => this.end(subscription, 'channel_closed'));
    let channel = this.byChannel.get(closed);
    if (channel === undefined) {
      const open = (channel = new Set());
      this.byChannel.set(closed, open);
      const endAll = () => {
        for (const s of open) this.end(s, 'channel_closed');
      };
      void closed.then(endAll, endAll);
    }
    channel.add(subscription);
    this.byId.set(subscription.id, { subscription, timer: this.expiry(subscription), channel });
    return subscription;
  }

  /** The subscription `id` of `identity`; another identity's is not found either. */
  get(id: string, identity: string): Subscription | undefined {
    const entry = this.byId.get(id);
    return entry?.subscription.identity === identity ? entry.subscription : undefined;
  }

  /** Another `lifetime` from now. */
  renew(subscription: Subscription): void {
    const entry = this.byId.get(subscription.id);
    if (entry === undefined) return;
    this.clock.clearTimeout(entry.timer);
    entry.timer = this.expiry(subscription);
  }

  end(subscription: Subscription, reason: EndReason): void {
    const entry = this.byId.get(subscription.id);
    if (entry === undefined) return;
    this.byId.delete(subscription.id);
    entry.channel.delete(subscription);
    this.clock.clearTimeout(entry.timer);
    const told = reason === 'expired' || reason === 'not_admin';
    subscription.end(told ? { event: 'ended', at: new Date(this.clock.now()).toISOString(), reason } : undefined);
  }

  /** Every open subscription. */
  all(): Subscription[] {
    return [...this.byId.values()].map((e) => e.subscription);
  }

  endAll(): void {
    for (const s of this.all()) this.end(s, 'stopped');
  }

  private expiry(subscription: Subscription): unknown {
    return this.clock.setTimeout(() => this.end(subscription, 'expired'), this.limits.lifetime);
  }
}

import { randomBytes } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { backoffDelay, describeError, fromUtf8, local, type Logger, type Message, Node } from '@tessera/core';
import { AUTHORITY_WORKER, decodeResponse, HubSession } from '@tessera/lease-client';
import type { Signer } from '@tessera/secure-channel';
import { routeTo, WebSocketTransport } from '@tessera/transport-ws';
import { z } from 'zod';
import { HUB_EVENTS_WORKER, HubEventSchema, RenewedSchema, SubscribedSchema, SUBSCRIPTION_LIMITS, type HubEvent, type Snapshot } from '../protocol/operator-view.js';

/** Renew this often (ms): well within the hub's 30 s, so one lost renewal does not end the subscription. */
const RENEW_EVERY = 15_000;
/** Acknowledge (renew early) once this many events arrived since the last acknowledgement. */
const ACK_EVERY = Math.floor(SUBSCRIPTION_LIMITS.unacknowledged / 4);
/** How long to wait for the answer to a subscribe (ms). */
const SUBSCRIBE_TIMEOUT = 15_000;
/** Subscribing again after a failure, or after a subscription broke (a gap, an end, a skipped seq): 500 ms, doubling up to 15 s. */
const RETRY = { initialDelay: 500, maxDelay: 15_000, factor: 2, jitter: 0.2 } as const;
/** A subscription that held this long (ms) before it broke starts the back-off of breaks anew. */
const HELD = 2 * RENEW_EVERY;

const CreatedTokenSchema = z.looseObject({ token: z.string().min(1).max(512), reference: z.string().max(64), expires: z.string().max(64) });
const AnySuccess = z.looseObject({});
const AnswerSchema = z.looseObject({ result: z.enum(['success', 'failure']), request_id: z.string().max(256).optional() });

export interface HubLinkOptions {
  /** The hub: ws://host:port, host:port or a route (as `tessera lease --hub`). */
  hub: string;
  /** The admin's identity. */
  identity: Signer;
  /** Trust only this hub identifier. */
  hubIdentifier?: string | undefined;
  /** Milliseconds to wait for each answer (default 10,000). */
  requestTimeout?: number;
  logger: Logger;
}

export interface HubLinkEvents {
  /** A new subscription: the whole view starts again from this. */
  snapshot: [{ hub: string; snapshot: Snapshot }];
  /** An event of the live subscription, in order. */
  event: [HubEvent];
  /** The link went down (with why) or the subscription is live again. */
  link: [{ connected: boolean; hub: string | null; problem: string | null }];
}

/** What the console asks the hub to do, as an admin. */
export interface TokenRequest {
  attributes: Record<string, string>;
  uses: number;
  ttl?: number | undefined;
}

/**
 * The console's side of a hub (docs/protocol.md §8): one secure channel as
 * the admin (a HubSession), a subscription to `hub_events` kept alive (renewed
 * and acknowledged, subscribed again after a gap, an end, a lost channel or a
 * failure, with back-off), and the admin's actions: revoke a lease, remove a
 * member, make a bootstrap token. Every answer and event is read with the
 * protocol's schemas; no lease value is ever asked for.
 */
export class HubLink extends EventEmitter<HubLinkEvents> {
  private readonly node: Node;
  private readonly session: HubSession;
  private readonly inbox = `console.inbox.${randomBytes(16).toString('hex')}`;
  private readonly logger: Logger;
  private subscription: string | undefined;
  private seq = 0;
  private acked = 0;
  /** The subscribe waiting for its answer (at most one at a time). */
  private pendingSubscribe: { requestId: string; answer: (payload: Uint8Array) => void } | undefined;
  private renewTimer: NodeJS.Timeout | undefined;
  private retryTimer: NodeJS.Timeout | undefined;
  private failures = 0;
  /** Subscriptions in a row that broke soon after they began (each new one reads every lease the hub holds). */
  private breaks = 0;
  private subscribedAt = 0;
  private stopped = false;
  private opened = 0;
  private renewing = false;

  constructor(options: HubLinkOptions) {
    super();
    this.logger = options.logger;
    this.node = new Node({ name: 'tessera-console', logger: options.logger });
    new WebSocketTransport(this.node);
    this.session = new HubSession({
      node: this.node,
      hub: routeTo(options.hub, 'token_lease'),
      identity: options.identity,
      hubIdentifier: options.hubIdentifier,
      // an admin the hub's settings name need not be a member: the hub decides each request
      credential: 'if-member',
      requestTimeout: options.requestTimeout ?? 10_000,
      logger: options.logger,
    });
    // a new channel after the first: the old one is gone, and its subscription with it
    this.session.on('opened', () => {
      if (++this.opened > 1 && this.pendingSubscribe === undefined) this.resubscribe('the secure channel to the hub was opened again');
    });
  }

  /** Starts the inbox and subscribes (retrying in the background until it works). */
  async start(): Promise<void> {
    await this.node.startWorker(this.inbox, (_ctx, msg) => this.received(msg));
    void this.subscribe();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.renewTimer);
    clearTimeout(this.retryTimer);
    const subscription = this.subscription;
    this.subscription = undefined;
    if (subscription !== undefined) {
      await this.session.request(HUB_EVENTS_WORKER, JSON.stringify({ action: 'unsubscribe', subscription })).catch(() => undefined);
    }
    this.session.close();
    await this.node.stop({ timeout: 100 });
  }

  /** Revokes a lease as the admin (the device's next use of its token fails; it renews). */
  async revoke(leaseId: string): Promise<void> {
    const reply = await this.session.request('token_lease', JSON.stringify({ action: 'revoke', token_id: leaseId }));
    decodeResponse(reply.payload, 'revoke', 'hub', AnySuccess);
  }

  /** Ends a membership: the hub revokes the member's leases and closes its channels. */
  async removeMember(identifier: string): Promise<void> {
    const reply = await this.session.request(AUTHORITY_WORKER, JSON.stringify({ action: 'remove', identifier }));
    decodeResponse(reply.payload, 'remove', 'authority', AnySuccess);
  }

  /** A new bootstrap token: the token itself goes to the caller once and is kept nowhere. */
  async createToken(request: TokenRequest): Promise<z.infer<typeof CreatedTokenSchema>> {
    const body = { action: 'create_token', attributes: request.attributes, uses: request.uses, ...(request.ttl === undefined ? {} : { ttl: request.ttl }) };
    const reply = await this.session.request(AUTHORITY_WORKER, JSON.stringify(body));
    const { token, reference, expires } = decodeResponse(reply.payload, 'create_token', 'authority', CreatedTokenSchema);
    return { token, reference, expires };
  }

  private received(msg: Message): void {
    // only what came through our channel, from the hub it leads to
    const hub = this.session.hub;
    if (hub === undefined || msg.local.identity !== hub) return;
    let value: unknown;
    try {
      value = JSON.parse(fromUtf8(msg.payload));
    } catch {
      return;
    }
    const answer = AnswerSchema.safeParse(value);
    if (answer.success) {
      const pending = this.pendingSubscribe;
      if (pending !== undefined && answer.data.request_id === pending.requestId) {
        this.pendingSubscribe = undefined;
        pending.answer(msg.payload);
      }
      return;
    }
    const event = HubEventSchema.safeParse(value);
    if (!event.success) {
      this.logger.warn({ issue: event.error.issues[0]?.message }, 'the hub sent an event that does not read as docs/protocol.md §8 says');
      return;
    }
    this.onEvent(event.data);
  }

  private onEvent(event: HubEvent): void {
    if (event.subscription !== this.subscription) return; // an ended subscription's last words
    if (event.seq !== this.seq + 1) return this.resubscribe(`events ${this.seq + 1}–${event.seq - 1} never arrived`, 'backing off');
    this.seq = event.seq;
    if (event.event === 'gap') return this.resubscribe(`the hub dropped ${event.dropped} events for this console`, 'backing off');
    if (event.event === 'ended') return this.resubscribe(`the hub ended the subscription (${event.reason})`, 'backing off');
    this.emit('event', event);
    if (this.seq - this.acked >= ACK_EVERY) void this.renew();
  }

  /**
   * Drops the current subscription (telling the hub, best effort) and
   * subscribes again: at once, or, when it broke, after a back-off that grows
   * while subscriptions keep breaking soon after they begin (a flood of
   * events), since each new one makes the hub read all its leases.
   */
  private resubscribe(why: string, when: 'at once' | 'backing off' = 'at once'): void {
    if (this.stopped) return;
    this.logger.info({ why }, 'subscribing to the hub again');
    const old = this.subscription;
    this.subscription = undefined;
    clearTimeout(this.renewTimer);
    if (old !== undefined) void this.session.request(HUB_EVENTS_WORKER, JSON.stringify({ action: 'unsubscribe', subscription: old })).catch(() => undefined);
    if (when === 'at once') return void this.subscribe();
    if (Date.now() - this.subscribedAt >= HELD) this.breaks = 0;
    this.emit('link', { connected: false, hub: null, problem: why });
    clearTimeout(this.retryTimer);
    this.retryTimer = setTimeout(() => void this.subscribe(), backoffDelay(this.breaks++, RETRY));
    this.retryTimer.unref();
  }

  private async subscribe(): Promise<void> {
    if (this.pendingSubscribe !== undefined || this.stopped) return;
    clearTimeout(this.retryTimer);
    let timer: NodeJS.Timeout | undefined;
    let attempt: { requestId: string; answer: (payload: Uint8Array) => void } | undefined;
    const answered = new Promise<void>((resolve, reject) => {
      attempt = {
        requestId: randomBytes(8).toString('hex'),
        answer: (payload) => {
          try {
            this.subscribed(payload);
            resolve();
          } catch (err) {
            reject(err);
          }
        },
      };
      timer = setTimeout(() => reject(new Error('the hub did not answer the subscribe in time')), SUBSCRIBE_TIMEOUT);
      timer.unref();
    });
    const pending = attempt!;
    this.pendingSubscribe = pending;
    // handled below; never an unhandled rejection while the send is still on its way
    answered.catch(() => undefined);
    try {
      await this.session.send(HUB_EVENTS_WORKER, JSON.stringify({ action: 'subscribe', request_id: pending.requestId }), [local(this.inbox)]);
      await answered;
    } catch (err) {
      if (this.pendingSubscribe === pending) this.pendingSubscribe = undefined;
      if (this.stopped) return;
      const problem = describeError(err).message;
      this.logger.warn({ err: describeError(err) }, 'subscribing to the hub failed; trying again');
      this.emit('link', { connected: false, hub: null, problem });
      this.retryTimer = setTimeout(() => void this.subscribe(), backoffDelay(this.failures++, RETRY));
      this.retryTimer.unref();
    } finally {
      clearTimeout(timer);
    }
  }

  /**
   * The answer to the subscribe, read as it arrives: the subscription is live
   * from here, before the events right behind the answer are read.
   */
  private subscribed(payload: Uint8Array): void {
    const { subscription, snapshot } = decodeResponse(payload, 'subscribe', 'hub', SubscribedSchema);
    if (this.stopped) return;
    this.subscription = subscription;
    this.seq = 0;
    this.acked = 0;
    this.failures = 0;
    this.subscribedAt = Date.now();
    const hub = this.session.hub ?? null;
    this.emit('snapshot', { hub: hub ?? '', snapshot });
    this.emit('link', { connected: true, hub, problem: null });
    this.armRenew();
  }

  private armRenew(): void {
    clearTimeout(this.renewTimer);
    this.renewTimer = setTimeout(() => void this.renew(), RENEW_EVERY);
    this.renewTimer.unref();
  }

  /** Renews and acknowledges what arrived; a subscription the hub no longer has, or no answer, means subscribing again. */
  private async renew(): Promise<void> {
    const subscription = this.subscription;
    if (subscription === undefined || this.renewing) return;
    this.renewing = true;
    const seq = this.seq;
    try {
      const reply = await this.session.request(HUB_EVENTS_WORKER, JSON.stringify({ action: 'renew', subscription, seq }));
      decodeResponse(reply.payload, 'renew', 'hub', RenewedSchema);
      if (this.subscription === subscription) {
        this.acked = Math.max(this.acked, seq);
        this.armRenew();
      }
    } catch (err) {
      if (this.subscription === subscription) {
        this.emit('link', { connected: false, hub: null, problem: describeError(err).message });
        this.resubscribe(`renewing failed: ${describeError(err).message}`);
      }
    } finally {
      this.renewing = false;
    }
  }
}

import { type Context, describeError, fromUtf8, LOCAL, type Logger, type Message, type Worker } from '@tessera/core';
import { HUB_EVENTS_ACTIONS, HubEventsRequestSchema, SUBSCRIPTION_LIMITS, type HubEventsRequest, type Snapshot } from '@tessera/console';
import { InFlight, type Membership } from '@tessera/authority';
import type { FailureCode } from '@tessera/token-lease';
import type { Subscriptions } from './subscriptions.js';

/** A hub-side channel end, as far as the worker needs one: whose it is, and when it ends. */
export interface ChannelOfSubscriber {
  identifier: string;
  closed: Promise<void>;
}

export interface HubEventsWorkerOptions {
  subscriptions: Subscriptions;
  /** Who an identity is now (the authority's live membership, admins named in the settings included). */
  membership: (identifier: string) => Promise<Membership | undefined>;
  /** The hub's channel end whose encryptor is this LOCAL address, if any. */
  channelAt: (address: string) => ChannelOfSubscriber | undefined;
  snapshot: () => Promise<Snapshot>;
  logger: Logger;
}

/** Requests of one identity in flight at once, and of all. */
const IN_FLIGHT = { perIdentity: 4, total: 64 } as const;

interface Answer {
  result: 'success' | 'failure';
  request_id?: string;
  code?: FailureCode;
  message?: string;
  subscription?: string;
  expires_in?: number;
  snapshot?: Snapshot;
}

class Refusal extends Error {
  constructor(
    readonly code: FailureCode,
    message: string,
  ) {
    super(message);
  }
}

/**
 * The `hub_events` worker (docs/protocol.md §8): an admin, through a secure
 * channel, subscribes to the operator's view of the hub and gets a snapshot,
 * then events back through the same channel until the subscription ends.
 * Answers like §4 and §6 (`result`, `code`, `message`, `request_id`).
 */
export class HubEventsWorker implements Worker {
  private readonly inFlight = new InFlight({ perCaller: IN_FLIGHT.perIdentity, total: IN_FLIGHT.total });

  constructor(private readonly options: HubEventsWorkerOptions) {}

  handleMessage(ctx: Context, msg: Message): void {
    const parsed = parse(msg.payload);
    const requestId = parsed.requestId;
    const identity = msg.local.identity;
    if (identity === undefined) {
      return this.reply(ctx, msg, failure(new Refusal('not_allowed', "a secure channel is required: only admins see the hub's events, through a channel of their own"), requestId));
    }
    if (parsed.request === undefined) return this.reply(ctx, msg, failure(new Refusal('invalid_request', parsed.message), requestId));
    const admission = this.inFlight.start(identity);
    if (admission === 'caller-full') return this.reply(ctx, msg, failure(new Refusal('quota_exceeded', 'too many requests of this identity in flight'), requestId));
    if (admission === 'full') return this.reply(ctx, msg, failure(new Refusal('unavailable', 'too many requests in flight; try again later'), requestId));
    void this.answer(ctx, msg, identity, parsed.request).finally(() => this.inFlight.end(identity));
  }

  private async answer(ctx: Context, msg: Message, identity: string, request: HubEventsRequest): Promise<void> {
    const id = request.request_id;
    try {
      await this.requireAdmin(identity, request);
      switch (request.action) {
        case 'subscribe':
          return await this.subscribe(ctx, msg, identity, id);
        case 'renew': {
          const subscription = this.find(request.subscription, identity);
          subscription.acknowledge(request.seq);
          this.options.subscriptions.renew(subscription);
          return this.reply(ctx, msg, success({ subscription: subscription.id, expires_in: SUBSCRIPTION_LIMITS.lifetime }, id));
        }
        case 'unsubscribe': {
          const subscription = this.find(request.subscription, identity);
          this.options.subscriptions.end(subscription, 'unsubscribed');
          return this.reply(ctx, msg, success({ subscription: subscription.id }, id));
        }
      }
    } catch (err) {
      if (!(err instanceof Refusal)) this.options.logger.warn({ action: request.action, err: describeError(err) }, 'hub_events request failed');
      this.reply(ctx, msg, failure(err, id));
    }
  }

  private async subscribe(ctx: Context, msg: Message, identity: string, id: string | undefined): Promise<void> {
    const head = msg.return[0];
    const channel = head?.type === LOCAL ? this.options.channelAt(head.value) : undefined;
    if (channel === undefined || channel.identifier !== identity) {
      throw new Refusal('not_allowed', 'events go back through the secure channel the subscribe came through: send it from the channel end itself');
    }
    const { subscriptions } = this.options;
    const subscription = subscriptions.open(identity, msg.return, channel.closed);
    if (subscription === 'hub_full') throw new Refusal('quota_exceeded', `this hub holds ${SUBSCRIPTION_LIMITS.perHub} subscriptions already`);
    if (subscription === 'identity_full') throw new Refusal('quota_exceeded', `this identity holds ${SUBSCRIPTION_LIMITS.perIdentity} subscriptions already`);
    let snapshot: Snapshot;
    try {
      snapshot = await this.options.snapshot();
    } catch (err) {
      subscriptions.end(subscription, 'stopped');
      this.options.logger.warn({ err: describeError(err) }, "the operator's snapshot could not be read");
      throw new Refusal('unavailable', "the hub could not read its storage for a snapshot; try again later");
    }
    if (!subscription.isOpen) throw new Refusal('unavailable', 'the subscription ended while its snapshot was read (its channel closed)');
    // the answer first, then what waited: the subscriber's events start right after its snapshot
    this.reply(ctx, msg, success({ subscription: subscription.id, expires_in: SUBSCRIPTION_LIMITS.lifetime, snapshot }, id));
    subscription.start();
  }

  private find(id: string, identity: string) {
    const subscription = this.options.subscriptions.get(id, identity);
    if (subscription === undefined) throw new Refusal('not_found', 'no such subscription: it ended (expired, unsubscribed or its channel closed); subscribe again');
    return subscription;
  }

  private async requireAdmin(identity: string, request: HubEventsRequest): Promise<void> {
    let membership: Membership | undefined;
    try {
      membership = await this.options.membership(identity);
    } catch {
      throw new Refusal('unavailable', "this caller's membership could not be checked; try again later");
    }
    if (membership?.admin === true) return;
    // an admin no more: what it holds ends now
    if (request.action !== 'subscribe') {
      const held = this.options.subscriptions.get(request.subscription, identity);
      if (held !== undefined) this.options.subscriptions.end(held, 'not_admin');
    }
    throw new Refusal('not_allowed', "only admins see the hub's events");
  }

  private reply(ctx: Context, msg: Message, answer: Answer): void {
    try {
      ctx.reply(msg, JSON.stringify(answer));
    } catch (err) {
      this.options.logger.warn({ err: describeError(err) }, 'hub_events answer could not be sent');
    }
  }
}

function success(fields: Omit<Answer, 'result' | 'request_id'>, requestId: string | undefined): Answer {
  return { result: 'success', ...fields, ...(requestId === undefined ? {} : { request_id: requestId }) };
}

function failure(err: unknown, requestId: string | undefined): Answer {
  const { code, message } = err instanceof Refusal ? err : { code: 'internal' as const, message: "internal error: the hub's log says why" };
  return { result: 'failure', code, message, ...(requestId === undefined ? {} : { request_id: requestId }) };
}

/** The request in a payload, or why there is none; `requestId` from anything that is a JSON object. */
function parse(payload: Uint8Array): { request?: HubEventsRequest; requestId?: string; message: string } {
  let value: unknown;
  try {
    value = JSON.parse(fromUtf8(payload));
  } catch {
    return { message: 'invalid request: the payload is not JSON text' };
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return { message: 'invalid request: a request is a JSON object with an "action"' };
  const rawId = (value as { request_id?: unknown }).request_id;
  const requestId = typeof rawId === 'string' && rawId.length <= 256 ? rawId : undefined;
  const withId = (message: string) => (requestId === undefined ? { message } : { requestId, message });
  const action = (value as { action?: unknown }).action;
  if (typeof action !== 'string' || !(HUB_EVENTS_ACTIONS as readonly string[]).includes(action)) {
    return withId(`invalid request: unknown action: expected one of ${HUB_EVENTS_ACTIONS.join(', ')}`);
  }
  const parsed = HubEventsRequestSchema.safeParse(value);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    return withId(`invalid request: ${issue?.path.join('.') || '(request)'}: ${issue?.message ?? 'invalid'}`);
  }
  return { ...withId(''), request: parsed.data };
}

import { type Clock, type Context, describeError, fromUtf8, type Message, systemClock, type Worker } from '@tessera/core';
import { FairScheduler, type FairSchedulerLimits } from './fair-scheduler.js';
import { failureOf } from './failure-code.js';
import { IdentityRequestBudget } from './identity-request-budget.js';
import { parseLeaseRequest, type LeaseRequest } from './lease-request.js';
import { failure, type LeaseResponse, success } from './lease-response.js';
import type { Caller, LeaseService } from './lease-service.js';
import { HubBusyError, MembershipUnavailableError, NotAllowedError, QuotaExceededError } from './service-errors.js';

/** Who an identity is on this hub (an authority's `membership`): its attributes and whether it is an admin. */
export interface MemberStanding {
  attributes: Readonly<Record<string, string>>;
  admin: boolean;
}

/** Looks an identifier up: its standing now, or undefined when it is not a member. */
export type MembershipLookup = (identifier: string) => Promise<MemberStanding | undefined>;

/** The answer to a request that did not come through a secure channel, on a secure hub. */
export const SECURE_CHANNEL_REQUIRED = 'a secure channel is required: this hub takes lease requests only through a secure channel (docs/protocol.md §5)';

export interface TokenLeaseWorkerOptions {
  /**
   * A secure hub (docs/protocol.md §4): the caller is the peer identity of the
   * secure channel a request came through, and must be a member now (asked at
   * every request, before the request is queued: identities are free to make,
   * and only members' requests wait for a turn). A request without an
   * identity, or from one that is not a member, is `not_allowed`; a member's
   * leases are owned by its identifier, whichever connection it uses. `owners`
   * does not apply then.
   */
  membership?: MembershipLookup;
  /**
   * Without `membership`, how a caller becomes a lease owner: the authenticated
   * identity when there is one; otherwise its connection (`connection`, the
   * default) or one shared `anonymous` owner (`anonymous`, for development hubs).
   */
  owners?: 'connection' | 'anonymous';
  /**
   * Owners that see and act on every lease (and are exempt from the per-owner
   * limits). With `membership`, admins are the identifiers listed here and those
   * the membership says are admins.
   */
  admins?: string[];
  /** Requests handled at once, over all owners (default 256). */
  concurrency?: number;
  /** Requests of one owner handled at once (default 8). */
  ownerConcurrency?: number;
  /** Requests of one owner waiting for their turn; one more is answered `quota_exceeded` (default 64). */
  ownerQueue?: number;
  /** Requests waiting over all owners; one more is answered `unavailable` (default 4096). */
  queue?: number;
  /** With `membership`: lookups in flight at once, over all identities; a request past them is answered `unavailable` (default 256). */
  lookups?: number;
  /**
   * With `membership`: requests one identity may send per second, taken before
   * its membership is looked up (a token bucket refilling at this rate); one
   * more is answered `quota_exceeded` at once, with no lookup and no queueing.
   * 0: no budget (default 100).
   */
  identityRequestRate?: number;
  /** The burst of that budget: requests an identity may send at once after a quiet spell (default twice the rate). */
  identityRequestBurst?: number;
  /** Identities whose budgets are remembered, least recently seen forgotten first (default 10,000). */
  identityBudgets?: number;
  /** Time for the identity budgets (default the system clock). */
  clock?: Clock;
}

/** The worker's fair-share limits when none are given. */
export const DEFAULT_WORKER_LIMITS: FairSchedulerLimits = { concurrency: 256, perKey: 8, perKeyQueue: 64, queue: 4096 };

/** Membership lookups in flight at once when `lookups` is not given. */
export const DEFAULT_MEMBERSHIP_LOOKUPS = 256;

/** Requests per second one identity may send to a secure hub when `identityRequestRate` is not given. */
export const DEFAULT_IDENTITY_REQUEST_RATE = 100;

/** The answer to a request past its identity's budget. */
export const IDENTITY_OVER_BUDGET = 'too many requests from this identity; slow down';

/** Requests of one identity that may wait for its membership lookup; one more is answered quota_exceeded. */
const LOOKUP_WAITERS = 64;

/**
 * The `token_lease` worker: reads a JSON request (docs/protocol.md §4), answers
 * with a JSON response, never crashes on what it is sent. Requests run
 * concurrently (each waits on the cloud), shared fairly between owners: each
 * owner has a bounded queue, owners take turns, and none runs more than its
 * share at once.
 */
export class TokenLeaseWorker implements Worker {
  private readonly owners: 'connection' | 'anonymous';
  private readonly admins: ReadonlySet<string>;
  private readonly membership: MembershipLookup | undefined;
  private readonly scheduler: FairScheduler;
  private readonly lookupLimit: number;
  /** Requests per identity before any lookup (secure hubs); none when the rate is 0. */
  private readonly budget: IdentityRequestBudget | undefined;
  /** Requests waiting for a membership lookup: each ends by scheduling its request or answering it. */
  private readonly lookups = new Set<Promise<void>>();
  /** One lookup per identity at a time, shared by its requests that arrive meanwhile (at most LOOKUP_WAITERS of them). */
  private readonly pending = new Map<string, { caller: Promise<Caller>; waiting: number }>();

  constructor(
    readonly service: LeaseService,
    options: TokenLeaseWorkerOptions = {},
  ) {
    this.owners = options.owners ?? 'connection';
    this.membership = options.membership;
    this.admins = new Set(options.admins ?? []);
    this.scheduler = new FairScheduler({
      concurrency: options.concurrency ?? DEFAULT_WORKER_LIMITS.concurrency,
      perKey: options.ownerConcurrency ?? DEFAULT_WORKER_LIMITS.perKey,
      perKeyQueue: options.ownerQueue ?? DEFAULT_WORKER_LIMITS.perKeyQueue,
      queue: options.queue ?? DEFAULT_WORKER_LIMITS.queue,
    });
    this.lookupLimit = options.lookups ?? DEFAULT_MEMBERSHIP_LOOKUPS;
    const rate = options.identityRequestRate ?? DEFAULT_IDENTITY_REQUEST_RATE;
    this.budget =
      options.membership === undefined || rate <= 0
        ? undefined
        : new IdentityRequestBudget(rate, options.identityRequestBurst ?? 2 * rate, options.clock ?? systemClock, options.identityBudgets);
  }

  // Returns at once: the scheduler, not the mailbox, holds what waits, so one
  // owner's backlog never stands in front of another's request.
  handleMessage(ctx: Context, msg: Message): void {
    const parsed = this.parse(msg);
    const identity = msg.local.identity;
    if (this.membership !== undefined && identity === undefined) {
      // nothing else is looked at, and nothing is queued: a secure hub serves secure channels only
      const requestId = 'request' in parsed ? parsed.request.request_id : parsed.response.request_id;
      return this.reply(ctx, msg, failure(failureOf(new NotAllowedError(SECURE_CHANNEL_REQUIRED)), requestId));
    }
    if ('response' in parsed) return this.reply(ctx, msg, parsed.response);
    const request = parsed.request;
    if (this.membership === undefined || identity === undefined) return this.schedule(ctx, msg, this.callerOf(msg), request);
    // the identity's budget first: a flood of one identity costs no lookup and waits nowhere
    if (this.budget !== undefined && !this.budget.take(identity)) {
      return this.reply(ctx, msg, failure(failureOf(new QuotaExceededError(IDENTITY_OVER_BUDGET)), request.request_id));
    }
    // membership next: a non-member is answered and never queued, so identities made by the thousand cannot fill the
    // queue members wait in; what waits for a lookup is bounded by `lookups`
    let shared = this.pending.get(identity);
    if (shared !== undefined && shared.waiting >= LOOKUP_WAITERS) {
      return this.reply(ctx, msg, failure(failureOf(new QuotaExceededError('too many requests of this caller waiting')), request.request_id));
    }
    if (shared === undefined) {
      if (this.pending.size >= this.lookupLimit) {
        return this.reply(ctx, msg, failure(failureOf(new HubBusyError('too many requests waiting; try again later')), request.request_id));
      }
      const entry = { caller: this.memberCaller(this.membership, identity), waiting: 0 };
      this.pending.set(identity, entry);
      void entry.caller.then(
        () => this.pending.delete(identity),
        () => this.pending.delete(identity),
      );
      shared = entry;
    }
    shared.waiting++;
    const lookup = this.admitMember(ctx, msg, shared.caller, request);
    this.lookups.add(lookup);
    void lookup.finally(() => this.lookups.delete(lookup));
  }

  async shutdown(): Promise<void> {
    while (this.lookups.size > 0) await Promise.all(this.lookups);
    await this.scheduler.idle();
  }

  /** Requests running and waiting now, and owners with any. */
  stats(): { running: number; queued: number; keys: number } {
    return this.scheduler.stats();
  }

  /** Schedules a member's request, or answers it: not a member, or its membership could not be checked. */
  private async admitMember(ctx: Context, msg: Message, lookup: Promise<Caller>, request: LeaseRequest): Promise<void> {
    let caller: Caller;
    try {
      caller = await lookup;
    } catch (err) {
      return this.send(ctx, msg, failure(failureOf(err), request.request_id));
    }
    this.schedule(ctx, msg, caller, request);
  }

  /** Queues the request under its owner (admins skip the per-owner limits), or answers that it cannot wait. */
  private schedule(ctx: Context, msg: Message, caller: Caller, request: LeaseRequest): void {
    const outcome = this.scheduler.submit(caller.owner, () => this.answer(ctx, msg, caller, request), caller.admin);
    if (outcome === 'key-full') {
      this.send(ctx, msg, failure(failureOf(new QuotaExceededError('too many requests of this caller waiting')), request.request_id));
    } else if (outcome === 'full') {
      this.send(ctx, msg, failure(failureOf(new HubBusyError('too many requests waiting; try again later')), request.request_id));
    }
  }

  /** The caller a member is now (NotAllowedError when it is not a member). */
  private async memberCaller(membership: MembershipLookup, identifier: string): Promise<Caller> {
    let standing: MemberStanding | undefined;
    try {
      standing = await membership(identifier);
    } catch (err) {
      throw new MembershipUnavailableError(`this caller's membership could not be checked (${describeError(err).name}); try again later`);
    }
    if (standing === undefined) throw new NotAllowedError('this identity is not a member of this hub');
    return { owner: identifier, admin: standing.admin || this.admins.has(identifier) || this.admins.has('*'), attributes: standing.attributes };
  }

  /** The owner a message's sender gets on a hub without `membership`. */
  callerOf(msg: Message): Caller {
    const owner = msg.local.identity ?? (this.owners === 'connection' ? msg.local.connection : undefined) ?? 'anonymous';
    return { owner, admin: this.admins.has(owner) || this.admins.has('*') };
  }

  private parse(msg: Message): { request: LeaseRequest } | { response: LeaseResponse } {
    let text: string;
    try {
      text = fromUtf8(msg.payload);
    } catch {
      return { response: failure({ code: 'invalid_request', message: 'invalid request: the payload is not UTF-8 text' }, undefined) };
    }
    const parsed = parseLeaseRequest(text);
    if (!parsed.ok) return { response: failure({ code: 'invalid_request', message: parsed.message }, parsed.requestId) };
    return { request: parsed.request };
  }

  private reply(ctx: Context, msg: Message, response: LeaseResponse): void {
    ctx.reply(msg, JSON.stringify(response));
  }

  private async answer(ctx: Context, msg: Message, queuedAs: Caller, request: LeaseRequest): Promise<void> {
    let response: LeaseResponse;
    try {
      // on a secure hub, membership again as the request starts: a member removed while it waited is refused
      const caller = this.membership === undefined ? queuedAs : await this.memberCaller(this.membership, queuedAs.owner);
      response = await this.perform(caller, request);
    } catch (err) {
      response = failure(failureOf(err), request.request_id);
    }
    this.send(ctx, msg, response);
  }

  /** Replies from outside handleMessage (after a lookup, from a job): a failure to send is logged, never thrown. */
  private send(ctx: Context, msg: Message, response: LeaseResponse): void {
    try {
      this.reply(ctx, msg, response);
    } catch (err) {
      ctx.logger.error({ err: describeError(err) }, 'lease response could not be sent');
    }
  }

  private async perform(caller: Caller, request: LeaseRequest): Promise<LeaseResponse> {
    const id = request.request_id;
    switch (request.action) {
      case 'create':
        return success({ lease: await this.service.create(caller, request.options) }, id);
      case 'get':
        return success({ lease: await this.service.get(caller, request.token_id) }, id);
      case 'revoke':
        await this.service.revoke(caller, request.token_id);
        return success({}, id);
      case 'renew':
        return success({ lease: await this.service.renew(caller, request.token_id, request.ttl) }, id);
      case 'list':
        return success({ leases: await this.service.list(caller) }, id);
    }
  }
}

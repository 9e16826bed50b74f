import { type Context, describeError, fromUtf8, type Message, type Worker } from '@tessera/core';
import { FairScheduler, type FairSchedulerLimits } from './fair-scheduler.js';
import { failureOf } from './failure-code.js';
import { parseLeaseRequest, type LeaseRequest } from './lease-request.js';
import { failure, type LeaseResponse, success } from './lease-response.js';
import type { Caller, LeaseService } from './lease-service.js';
import { HubBusyError, QuotaExceededError } from './service-errors.js';

export interface TokenLeaseWorkerOptions {
  /**
   * How a caller's identity becomes a lease owner: the authenticated identity
   * when there is one; otherwise its connection (`connection`, the default) or
   * one shared `anonymous` owner (`anonymous`, for development hubs).
   */
  owners?: 'connection' | 'anonymous';
  /** Owners that see and act on every lease (and are exempt from the per-owner limits). */
  admins?: string[];
  /** Requests handled at once, over all owners (default 256). */
  concurrency?: number;
  /** Requests of one owner handled at once (default 8). */
  ownerConcurrency?: number;
  /** Requests of one owner waiting for their turn; one more is answered `quota_exceeded` (default 64). */
  ownerQueue?: number;
  /** Requests waiting over all owners; one more is answered `unavailable` (default 4096). */
  queue?: number;
}

/** The worker's fair-share limits when none are given. */
export const DEFAULT_WORKER_LIMITS: FairSchedulerLimits = { concurrency: 256, perKey: 8, perKeyQueue: 64, queue: 4096 };

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
  private readonly scheduler: FairScheduler;

  constructor(
    readonly service: LeaseService,
    options: TokenLeaseWorkerOptions = {},
  ) {
    this.owners = options.owners ?? 'connection';
    this.admins = new Set(options.admins ?? []);
    this.scheduler = new FairScheduler({
      concurrency: options.concurrency ?? DEFAULT_WORKER_LIMITS.concurrency,
      perKey: options.ownerConcurrency ?? DEFAULT_WORKER_LIMITS.perKey,
      perKeyQueue: options.ownerQueue ?? DEFAULT_WORKER_LIMITS.perKeyQueue,
      queue: options.queue ?? DEFAULT_WORKER_LIMITS.queue,
    });
  }

  // Returns at once: the scheduler, not the mailbox, holds what waits, so one
  // owner's backlog never stands in front of another's request.
  handleMessage(ctx: Context, msg: Message): void {
    const parsed = this.parse(msg);
    if ('response' in parsed) return this.reply(ctx, msg, parsed.response);
    const caller = this.callerOf(msg);
    const request = parsed.request;
    const outcome = this.scheduler.submit(caller.owner, () => this.answer(ctx, msg, caller, request), caller.admin);
    if (outcome === 'key-full') {
      this.reply(ctx, msg, failure(failureOf(new QuotaExceededError('too many requests of this caller waiting')), request.request_id));
    } else if (outcome === 'full') {
      this.reply(ctx, msg, failure(failureOf(new HubBusyError('too many requests waiting; try again later')), request.request_id));
    }
  }

  async shutdown(): Promise<void> {
    await this.scheduler.idle();
  }

  /** Requests running and waiting now, and owners with any. */
  stats(): { running: number; queued: number; keys: number } {
    return this.scheduler.stats();
  }

  /** The owner a message's sender gets. */
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

  private async answer(ctx: Context, msg: Message, caller: Caller, request: LeaseRequest): Promise<void> {
    let response: LeaseResponse;
    try {
      response = await this.perform(caller, request);
    } catch (err) {
      response = failure(failureOf(err), request.request_id);
    }
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

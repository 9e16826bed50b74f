import { type Context, describeError, fromUtf8, type Message, type Worker } from '@tessera/core';
import { CloudUnavailableError, LeaseError, StorageUnavailableError } from './errors.js';
import { parseLeaseRequest, type LeaseRequest } from './lease-request.js';
import { failure, type LeaseResponse, success } from './lease-response.js';
import type { Caller, LeaseService } from './lease-service.js';

export interface TokenLeaseWorkerOptions {
  /**
   * How a caller's identity becomes a lease owner: the authenticated identity
   * when there is one; otherwise its connection (`connection`, the default) or
   * one shared `anonymous` owner (`anonymous`, for development hubs).
   */
  owners?: 'connection' | 'anonymous';
  /** Owners that see and act on every lease. */
  admins?: string[];
  /** Requests handled at once; the mailbox holds the rest. */
  concurrency?: number;
}

/**
 * The `token_lease` worker: reads a JSON request (docs/protocol.md §4), answers
 * with a JSON response, never crashes on what it is sent. Requests are
 * handled concurrently up to a bound, since each waits on the cloud.
 */
export class TokenLeaseWorker implements Worker {
  private inFlight = 0;
  private readonly slotWaiters: (() => void)[] = [];
  private readonly owners: 'connection' | 'anonymous';
  private readonly admins: ReadonlySet<string>;
  private readonly concurrency: number;
  private readonly running = new Set<Promise<void>>();

  constructor(
    readonly service: LeaseService,
    options: TokenLeaseWorkerOptions = {},
  ) {
    this.owners = options.owners ?? 'connection';
    this.admins = new Set(options.admins ?? []);
    this.concurrency = options.concurrency ?? 256;
  }

  async handleMessage(ctx: Context, msg: Message): Promise<void> {
    if (this.inFlight >= this.concurrency) await new Promise<void>((resolve) => this.slotWaiters.push(resolve));
    this.inFlight++;
    const job = this.answer(ctx, msg)
      .catch((err: unknown) => ctx.logger.error({ err: describeError(err) }, 'lease request failed unexpectedly'))
      .finally(() => {
        this.inFlight--;
        this.running.delete(job);
        this.slotWaiters.shift()?.();
      });
    this.running.add(job);
  }

  async shutdown(): Promise<void> {
    await Promise.allSettled([...this.running]);
  }

  /** The owner a message's sender gets. */
  callerOf(msg: Message): Caller {
    const owner = msg.local.identity ?? (this.owners === 'connection' ? msg.local.connection : undefined) ?? 'anonymous';
    return { owner, admin: this.admins.has(owner) || this.admins.has('*') };
  }

  private async answer(ctx: Context, msg: Message): Promise<void> {
    const response = await this.respond(msg);
    ctx.reply(msg, JSON.stringify(response));
  }

  private async respond(msg: Message): Promise<LeaseResponse> {
    let text: string;
    try {
      text = fromUtf8(msg.payload);
    } catch {
      return failure('invalid request: the payload is not UTF-8 text', undefined);
    }
    const parsed = parseLeaseRequest(text);
    if (!parsed.ok) return failure(parsed.message, parsed.requestId);
    const request = parsed.request;
    try {
      return await this.perform(this.callerOf(msg), request);
    } catch (err) {
      return failure(failureMessage(err), request.request_id);
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

/** A failure's message: our typed errors speak for themselves; anything else is named, never dumped. */
function failureMessage(err: unknown): string {
  // docs/protocol.md §4: an outage says "unavailable", so a client knows to retry
  if (err instanceof CloudUnavailableError && !/unavailable/i.test(err.message)) return `cloud unavailable: ${err.message}`;
  if (err instanceof StorageUnavailableError && !/unavailable/i.test(err.message)) return `storage unavailable: ${err.message}`;
  if (err instanceof LeaseError) return err.message;
  const { name, message } = describeError(err);
  return `internal error (${name}): ${message}`;
}

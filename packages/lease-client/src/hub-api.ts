import { type Clock, ClosedError, fromUtf8, type Node, type Route } from '@tessera/core';
import { z } from 'zod';
import { FAILURE_CODES, type FailureCode, type Lease, LeaseSchema } from '@tessera/token-lease';
import { LeaseProtocolError, LeaseRejectedError, LeaseUnavailableError } from './errors.js';

const ResponseSchema = z.object({
  result: z.enum(['success', 'failure']),
  lease: LeaseSchema.optional(),
  // a code this client does not know (a newer hub) or none (an older one) counts as `internal`
  code: z.string().optional().transform((c): FailureCode => ((FAILURE_CODES as readonly string[]).includes(c ?? '') ? (c as FailureCode) : 'internal')),
  message: z.string().optional(),
});

/** Core errors that mean the hub could not be reached this time (docs/protocol.md §2: a drop is a timeout, never a crash). */
const TRANSIENT_NAMES = new Set([
  'TimeoutError',
  'ClosedError',
  'QueueFullError',
  'ConnectionError',
  'MailboxFullError',
  'UnknownAddressError',
]);

/**
 * Failure codes worth another attempt (docs/protocol.md §4): `unavailable`
 * (the cloud or storage is down), and `internal`, which may be a one-off and
 * is retried a bounded number of times. Everything else is refused for good.
 */
const TRANSIENT_CODES: ReadonlySet<FailureCode> = new Set(['unavailable', 'internal']);

/** True for a failure worth trying again: the hub unreachable, or answering that it cannot serve now. */
export function isTransient(err: unknown): boolean {
  return err instanceof Error && (err instanceof LeaseUnavailableError || TRANSIENT_NAMES.has(err.name));
}

/** A lease and when the request that brought it was sent, on the client's clock. */
export interface Received {
  lease: Lease;
  sentAt: number;
}

/**
 * The lease API of docs/protocol.md §4 as calls: one request, one typed outcome.
 * A transient failure throws a core error or a LeaseUnavailableError (one
 * attempt); a permanent one a LeaseRejectedError with the hub's message.
 */
export class HubApi {
  constructor(
    private readonly node: Node,
    readonly hub: Route,
    private readonly clock: Clock,
    private readonly timeout: number,
  ) {}

  /** False once the client's own node is stopping: then nothing is worth retrying. */
  nodeRunning(): boolean {
    return this.node.state === 'running';
  }

  async create(options: Record<string, unknown>): Promise<Received> {
    return this.withLease('create', { action: 'create', options });
  }

  async renew(tokenId: string, ttl: number | undefined): Promise<Received> {
    return this.withLease('renew', ttl === undefined ? { action: 'renew', token_id: tokenId } : { action: 'renew', token_id: tokenId, ttl });
  }

  /** Revokes; `gone` when the hub knew no such lease (revoked already, or expired). */
  async revoke(tokenId: string): Promise<'revoked' | 'gone'> {
    try {
      await this.call('revoke', { action: 'revoke', token_id: tokenId });
      return 'revoked';
    } catch (err) {
      if (err instanceof LeaseRejectedError && err.reason === 'not_found') return 'gone';
      // `unavailable` (the cloud refused the revocation; the hub retries it too) is retried like any outage
      throw err;
    }
  }

  private async withLease(action: string, body: object): Promise<Received> {
    const sentAt = this.clock.now();
    const response = await this.call(action, body);
    if (response.lease === undefined) throw new LeaseProtocolError(`the hub's ${action} response has no lease`);
    return { lease: response.lease, sentAt };
  }

  private async call(action: string, body: object): Promise<z.infer<typeof ResponseSchema>> {
    // our own node stopping is not the hub being down: no point in retrying
    if (this.node.state !== 'running') throw new ClosedError(`node ${this.node.name} is ${this.node.state}`);
    const reply = await this.node.request(this.hub, JSON.stringify(body), { timeout: this.timeout });
    let value: unknown;
    try {
      value = JSON.parse(fromUtf8(reply.payload));
    } catch {
      // the parser's message quotes the text, which is not ours to repeat
      throw new LeaseProtocolError(`the hub's ${action} response is not JSON`);
    }
    const result = ResponseSchema.safeParse(value);
    if (!result.success) {
      const issue = result.error.issues[0];
      throw new LeaseProtocolError(`the hub's ${action} response is not a lease API response (${issue?.path.join('.') ?? ''}: ${issue?.message ?? 'invalid'})`);
    }
    const parsed = result.data;
    if (parsed.result === 'success') return parsed;
    const message = parsed.message ?? `${action} failed without a message`;
    if (TRANSIENT_CODES.has(parsed.code)) throw new LeaseUnavailableError(message, 1);
    throw new LeaseRejectedError(action, parsed.code, message);
  }
}

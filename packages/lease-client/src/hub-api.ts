import { type Clock, ClosedError, type Message, type Node } from '@tessera/core';
import { z } from 'zod';
import { type Lease, LeaseSchema } from '@tessera/token-lease';
import { LeaseProtocolError, LeaseRejectedError, LeaseUnavailableError } from './errors.js';
import { decodeResponse } from './json-response.js';

/** Core and channel errors that mean the hub could not be reached this time (docs/protocol.md §2: a drop is a timeout, never a crash). */
const TRANSIENT_NAMES = new Set([
  'TimeoutError',
  'ClosedError',
  'QueueFullError',
  'ConnectionError',
  'MailboxFullError',
  'UnknownAddressError',
  // a secure channel that could not be opened this time (docs/protocol.md §5)
  'HandshakeTimeoutError',
  'HandshakeUnreachableError',
  'ChannelClosedError',
]);

/** True for a failure worth trying again: the hub unreachable, or answering that it cannot serve now. */
export function isTransient(err: unknown): boolean {
  return err instanceof Error && (err instanceof LeaseUnavailableError || TRANSIENT_NAMES.has(err.name));
}

/** A lease and when the request that brought it was sent, on the client's clock. */
export interface Received {
  lease: Lease;
  sentAt: number;
}

/** Sends one JSON request to the hub's lease worker and resolves with its answer: over a plain route or through a secure channel. */
export type LeaseRequester = (body: string) => Promise<Message>;

const LeaseFieldsSchema = z.looseObject({ lease: LeaseSchema.optional() });

/**
 * The lease API of docs/protocol.md §4 as calls: one request, one typed outcome.
 * A transient failure throws a core error or a LeaseUnavailableError (one
 * attempt); a permanent one a LeaseRejectedError with the hub's message.
 */
export class HubApi {
  constructor(
    private readonly node: Node,
    private readonly send: LeaseRequester,
    private readonly clock: Clock,
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

  private async call(action: string, body: object): Promise<z.output<typeof LeaseFieldsSchema>> {
    // our own node stopping is not the hub being down: no point in retrying
    if (this.node.state !== 'running') throw new ClosedError(`node ${this.node.name} is ${this.node.state}`);
    const reply = await this.send(JSON.stringify(body));
    return decodeResponse(reply.payload, action, 'hub', LeaseFieldsSchema);
  }
}

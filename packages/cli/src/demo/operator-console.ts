import { type Logger, Node, type Route } from '@tessera/core';
import { AUTHORITY_WORKER, decodeResponse, HubSession, LeaseRejectedError } from '@tessera/lease-client';
import type { Signer } from '@tessera/secure-channel';
import { routeTo, WebSocketTransport } from '@tessera/transport-ws';
import { z } from 'zod';
import { DemoHubNotSecureError } from './demo-hub.js';

const Success = z.looseObject({});
const MembersPage = z.looseObject({ members: z.array(z.looseObject({ identifier: z.string(), attributes: z.record(z.string(), z.string()) })), next: z.string().optional() });

/** A member as the console lists it. */
export interface ListedMember {
  identifier: string;
  attributes: Readonly<Record<string, string>>;
}

export interface OperatorConsoleOptions {
  /** The hub's WebSocket URL. */
  hub: string;
  /** The hub's identifier: the console trusts only it. */
  hubIdentifier: string;
  /** The operator's identity, an admin in the hub's settings (not a member: it holds no credential). */
  identity: Signer;
  /** LOCAL address of the lease worker (default `token_lease`). */
  leaseWorker?: string;
  requestTimeout?: number;
  logger: Logger;
}

/**
 * The operator's side of the demo, outside every device: a node of its own
 * that reaches the hub's lease worker through a secure channel with the
 * operator's identity, as `tessera lease revoke ID --identity FILE` does.
 */
export class OperatorConsole {
  private readonly node: Node;
  private readonly session: HubSession;
  private readonly leaseRoute: Route;
  private readonly worker: string;

  constructor(options: OperatorConsoleOptions) {
    this.worker = options.leaseWorker ?? 'token_lease';
    this.leaseRoute = routeTo(options.hub, this.worker);
    this.node = new Node({ name: 'demo-operator', logger: options.logger });
    new WebSocketTransport(this.node);
    this.session = new HubSession({
      node: this.node,
      hub: this.leaseRoute,
      identity: options.identity,
      hubIdentifier: options.hubIdentifier,
      // an admin named in the hub's settings is no member: the hub decides each request by its identity
      credential: 'if-member',
      requestTimeout: options.requestTimeout ?? 5_000,
      logger: options.logger,
    });
  }

  /** Calls `listener` with the hub's identifier each time the console's secure channel opens. */
  onChannel(listener: (hub: string) => void): void {
    this.session.on('opened', ({ hub }) => listener(hub));
  }

  /** The hub's members, as `tessera enroll members` lists them: from the authority, through the channel (opened on first use). */
  async members(): Promise<ListedMember[]> {
    const listed: ListedMember[] = [];
    let after: string | undefined;
    do {
      const reply = await this.session.request(AUTHORITY_WORKER, JSON.stringify(after === undefined ? { action: 'members' } : { action: 'members', after }));
      const page = decodeResponse(reply.payload, 'members', 'authority', MembersPage);
      listed.push(...page.members.map((m) => ({ identifier: m.identifier, attributes: m.attributes })));
      after = page.next;
    } while (after !== undefined);
    return listed;
  }

  /** Revokes a lease as an admin, through the channel (opened on first use). */
  async revoke(leaseId: string): Promise<void> {
    const reply = await this.session.request(this.worker, JSON.stringify({ action: 'revoke', token_id: leaseId }));
    decodeResponse(reply.payload, 'revoke', 'hub', Success);
  }

  /**
   * Sends one lease request in plaintext, as anything that did not open a
   * channel would, and resolves with the hub's refusal: its code and message.
   * A hub that served it would be no secure hub: DemoHubNotSecureError.
   */
  async plaintextRefusal(): Promise<{ code: string; message: string }> {
    const reply = await this.node.request(this.leaseRoute, JSON.stringify({ action: 'list' }), { timeout: 5_000 });
    try {
      decodeResponse(reply.payload, 'list', 'hub', Success);
    } catch (err) {
      if (err instanceof LeaseRejectedError) return { code: err.reason, message: err.message };
      throw err;
    }
    throw new DemoHubNotSecureError('the hub answered a plaintext lease request: it is not a secure hub');
  }

  async close(): Promise<void> {
    this.session.close();
    await this.node.stop({ timeout: 100 });
  }
}

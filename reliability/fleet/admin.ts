// The fleet's admin: an identity the hub names with --admin, talking to the hub's authority
// (bootstrap tokens) and lease worker (every lease) through a secure channel, as `tessera
// enroll` and `tessera lease` do. Every secret it makes or learns goes to the evidence.
import { join } from 'node:path';
import { fromUtf8, Node, silentLogger } from '@tessera/core';
import { ApiResponseSchema, AUTHORITY_WORKER, HubSession } from '@tessera/lease-client';
import { type Ed25519Identity, loadOrCreateIdentity } from '@tessera/secure-channel';
import { type Lease, LeaseSchema } from '@tessera/token-lease';
import { routeTo, WebSocketTransport } from '@tessera/transport-ws';
import { z } from 'zod';
import type { Evidence } from '../evidence.js';

const CreatedSchema = z.looseObject({ token: z.string().min(1) });
const LeasesSchema = z.looseObject({ leases: z.array(LeaseSchema) });
/** How long the admin waits for each answer: a list of thousands of leases on a busy hub takes a while. */
const TIMEOUT_MS = 30_000;

export class FleetAdmin {
  private session: { node: Node; session: HubSession } | undefined;

  private constructor(
    private readonly evidence: Evidence,
    private readonly identity: Ed25519Identity,
  ) {}

  /** The admin's identity, kept in `dir/admin.json` (its private key a secret in `evidence`). */
  static async create(evidence: Evidence, dir: string): Promise<FleetAdmin> {
    const file = join(dir, 'admin.json');
    const identity = await loadOrCreateIdentity(file);
    evidence.identityFile('the admin', file);
    return new FleetAdmin(evidence, identity);
  }

  get identifier(): string {
    return this.identity.identifier;
  }

  /** Talks to the hub at `hub` (ws://…) from now on, trusting only `hubIdentifier`; a channel is opened at the first request. */
  connect(hub: string, hubIdentifier: string): void {
    this.close();
    const node = new Node({ name: 'fleet-admin', logger: silentLogger });
    new WebSocketTransport(node, { reconnect: { initialDelay: 100, maxDelay: 1_000 } });
    const session = new HubSession({ node, hub: routeTo(hub, 'token_lease'), identity: this.identity, hubIdentifier, credential: 'if-member', requestTimeout: TIMEOUT_MS, logger: silentLogger });
    this.session = { node, session };
  }

  /** A bootstrap token for `uses` devices with these attributes (docs/protocol.md §6). */
  async createToken(attributes: Record<string, string>, uses: number, ttl = 600_000): Promise<string> {
    const answer = await this.ask(AUTHORITY_WORKER, { action: 'create_token', attributes, uses, ttl });
    const { token } = CreatedSchema.parse(answer);
    this.evidence.secret('a bootstrap token', token);
    return token;
  }

  /** Every lease the hub holds (an admin's `list` sees all); their values become secrets. */
  async leases(): Promise<Lease[]> {
    const { leases } = LeasesSchema.parse(await this.ask('token_lease', { action: 'list' }));
    for (const lease of leases) this.evidence.secret('a lease value', lease.value);
    return leases;
  }

  close(): void {
    const current = this.session;
    this.session = undefined;
    if (current === undefined) return;
    current.session.close();
    void current.node.stop({ timeout: 100 });
  }

  private async ask(worker: string, body: object): Promise<unknown> {
    if (this.session === undefined) throw new Error('the admin is not connected to a hub');
    const reply = await this.session.session.request(worker, JSON.stringify(body));
    const value: unknown = JSON.parse(fromUtf8(reply.payload));
    const response = ApiResponseSchema.parse(value);
    if (response.result === 'failure') throw new Error(`the hub refused the admin's ${worker} request: ${response.code ?? 'internal'}: ${response.message ?? ''}`);
    return value;
  }
}

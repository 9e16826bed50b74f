import { randomBytes } from 'node:crypto';
import { type Context, fromUtf8, type Message, type Node, type Route, type Worker, type Clock } from '@tessera/core';
import { connectionRoute, Forwarder, FORWARDER_ACCESS } from './forwarder.js';
import { InvalidRelayOptionsError } from './errors.js';
import { forwarderName, isRelayName, nameAllowed } from './relay-name.js';
import { type RelayRequest, RelayRequestSchema } from './relay-protocol.js';

/** What the service asks about a caller: whether it is a member, and its stored attributes. */
export type RelayMembership = (identifier: string) => Promise<{ attributes: Readonly<Record<string, string>> } | undefined>;

export interface RelayServiceOptions {
  /** Live membership (the hub's authority): only members may create relays. */
  membership: RelayMembership;
  /** Whether a member needs the `relay` attribute to take a name (default false: any free name). See nameAllowed. */
  requireAttribute?: boolean;
  /** Names one identity may hold (default 8). */
  maxPerIdentity?: number;
  /** Names held in all (default 1,024). */
  maxRelays?: number;
  /** Milliseconds a `create`'s ticket may wait for its `attach` (default 30,000). */
  ticketTtl?: number;
  /** Whether a LOCAL name is one of the hub's connections (default: `ws.…` and registered on the node). */
  isConnection?: (name: string) => boolean;
  /** Messages a forwarder's mailbox holds (default 1,024). */
  forwarderMailbox?: number;
}

type FailureCode = 'invalid_request' | 'not_found' | 'not_allowed' | 'quota_exceeded' | 'unavailable' | 'internal';

class Refusal extends Error {
  /** The request's request_id, when the refusal came before the request was read whole. */
  requestId: string | undefined;
  constructor(
    readonly failureCode: FailureCode,
    message: string,
  ) {
    super(message);
  }
}

interface RelayEntry {
  owner: string;
  /** The device's connection, once attached. */
  route: Route | undefined;
}

interface Ticket {
  name: string;
  owner: string;
  expiresAt: number;
}

/** Counters of a relay service. */
export interface RelayServiceStats {
  relays: number;
  attached: number;
  pendingTickets: number;
  /** Messages a forwarder dropped: no device attached (or its connection is gone), or refused. */
  dropped: Record<string, number>;
}

/**
 * The hub's relay service (LOCAL `relay`): JSON requests as in docs/protocol.md
 * §4. `create` (through a secure channel, members only) binds a name to the
 * caller's identity, starts `forward_to_<name>`, and answers a one-time ticket;
 * `attach` (straight over a connection, with that ticket) makes the connection
 * it arrived on the relay's route, replacing the one before (a reconnect);
 * `delete` (through a channel, by the owner) removes the relay. A name held by
 * another identity is `not_allowed`; names follow RELAY_NAME_PATTERN and
 * nameAllowed; counts are bounded per identity and in all. Relays live in
 * memory: after a hub restart devices register again (createRelay does).
 */
export class RelayService implements Worker {
  private readonly relays = new Map<string, RelayEntry>();
  private readonly tickets = new Map<string, Ticket>();
  private readonly drops = new Map<string, number>();
  private readonly requireAttribute: boolean;
  private readonly maxPerIdentity: number;
  private readonly maxRelays: number;
  private readonly ticketTtl: number;
  private readonly forwarderMailbox: number;
  private node: Node | undefined;
  private clock: Clock | undefined;
  private isConnection: (name: string) => boolean;

  constructor(private readonly options: RelayServiceOptions) {
    this.requireAttribute = options.requireAttribute ?? false;
    this.maxPerIdentity = positive('maxPerIdentity', options.maxPerIdentity ?? 8);
    this.maxRelays = positive('maxRelays', options.maxRelays ?? 1_024);
    this.ticketTtl = positive('ticketTtl', options.ticketTtl ?? 30_000);
    this.forwarderMailbox = positive('forwarderMailbox', options.forwarderMailbox ?? 1_024);
    this.isConnection = options.isConnection ?? (() => false);
  }

  initialize(ctx: Context): void {
    this.node = ctx.node;
    this.clock = ctx.node.clock;
    const router = ctx.node.router;
    if (this.options.isConnection === undefined) this.isConnection = (name) => name.startsWith('ws.') && router.hasLocal(name);
  }

  async shutdown(ctx: Context): Promise<void> {
    const names = [...this.relays.keys()];
    this.relays.clear();
    this.tickets.clear();
    await Promise.all(names.map((name) => ctx.node.stopWorker(forwarderName(name)).catch(() => undefined)));
  }

  stats(): RelayServiceStats {
    let attached = 0;
    for (const r of this.relays.values()) if (r.route !== undefined) attached++;
    return { relays: this.relays.size, attached, pendingTickets: this.tickets.size, dropped: Object.fromEntries(this.drops) };
  }

  async handleMessage(ctx: Context, msg: Message): Promise<void> {
    let requestId: string | undefined;
    try {
      const request = parse(msg.payload);
      requestId = request.request_id;
      const answer = await this.handle(ctx, msg, request);
      ctx.reply(msg, JSON.stringify({ result: 'success', ...answer, ...(requestId === undefined ? {} : { request_id: requestId }) }));
    } catch (err) {
      const refusal = err instanceof Refusal ? err : new Refusal('internal', 'internal error');
      requestId ??= refusal.requestId;
      if (!(err instanceof Refusal)) ctx.logger.error({ err: err instanceof Error ? err.message : String(err) }, 'relay request failed');
      ctx.reply(msg, JSON.stringify({ result: 'failure', code: refusal.failureCode, message: refusal.message, ...(requestId === undefined ? {} : { request_id: requestId }) }));
    }
  }

  private async handle(ctx: Context, msg: Message, request: RelayRequest): Promise<Record<string, string>> {
    switch (request.action) {
      case 'create':
        return this.create(ctx, msg, request.name);
      case 'attach':
        return await this.attach(msg, request.ticket);
      case 'delete':
        return this.remove(ctx, msg, request.name);
    }
  }

  private async caller(msg: Message): Promise<{ identifier: string; attributes: Readonly<Record<string, string>> }> {
    const identifier = msg.local.identity;
    if (identifier === undefined) throw new Refusal('not_allowed', 'not allowed: relays are created and deleted only through a secure channel');
    const member = await this.options.membership(identifier);
    if (member === undefined) throw new Refusal('not_allowed', 'not allowed: this identity is not a member');
    return { identifier, attributes: member.attributes };
  }

  private async create(ctx: Context, msg: Message, name: string): Promise<Record<string, string>> {
    const { identifier, attributes } = await this.caller(msg);
    await this.reclaimUnattached(ctx);
    if (!isRelayName(name)) throw new Refusal('invalid_request', 'a relay name is 1 to 63 of a-z, 0-9 and -, not starting or ending with -');
    if (!nameAllowed(name, attributes, this.requireAttribute)) throw new Refusal('not_allowed', `not allowed: this identity may not take the relay name ${name}`);
    const held = this.relays.get(name);
    if (held !== undefined && held.owner !== identifier) throw new Refusal('not_allowed', `not allowed: the relay name ${name} is taken`);
    if (held === undefined) {
      let mine = 0;
      for (const r of this.relays.values()) if (r.owner === identifier) mine++;
      if (mine >= this.maxPerIdentity) throw new Refusal('quota_exceeded', `quota exceeded: at most ${this.maxPerIdentity} relays per identity`);
      if (this.relays.size >= this.maxRelays) throw new Refusal('unavailable', 'the hub holds as many relays as it may');
      this.relays.set(name, { owner: identifier, route: undefined });
      try {
        // a forwarder left from a relay removed meanwhile (removeAllOf) serves on: it asks for its route each time
        if (!ctx.node.router.hasLocal(forwarderName(name))) await ctx.node.startWorker(forwarderName(name), new Forwarder(name, this.host, (reason) => this.drop(reason)), {
          incoming: FORWARDER_ACCESS,
          mailboxCapacity: this.forwarderMailbox,
        });
      } catch (err) {
        this.relays.delete(name);
        throw err;
      }
    }
    const ticket = this.issueTicket(name, identifier);
    return { name, address: forwarderName(name), ticket: ticket.id, expires: new Date(ticket.expiresAt).toISOString() };
  }

  /** Names created but never attached, whose ticket is gone: free again (else they would hold places until a restart). */
  private async reclaimUnattached(ctx: Context): Promise<void> {
    const now = this.now();
    const waiting = new Set<string>();
    for (const t of this.tickets.values()) if (t.expiresAt > now) waiting.add(t.name);
    const stopping: Promise<unknown>[] = [];
    for (const [name, relay] of this.relays) {
      if (relay.route !== undefined || waiting.has(name)) continue;
      this.relays.delete(name);
      // its forwarder goes too (names an attribute allows by prefix are many: workers must not pile up), before
      // a create of the same name looks for it
      stopping.push(ctx.node.stopWorker(forwarderName(name)).catch(() => undefined));
    }
    await Promise.all(stopping);
  }

  private issueTicket(name: string, owner: string): { id: string; expiresAt: number } {
    const now = this.now();
    for (const [id, t] of this.tickets) if (t.expiresAt <= now || t.name === name) this.tickets.delete(id);
    // at most one waiting ticket per name, and names are bounded: so are tickets
    const id = randomBytes(16).toString('base64url');
    const expiresAt = now + this.ticketTtl;
    this.tickets.set(id, { name, owner, expiresAt });
    return { id, expiresAt };
  }

  private async attach(msg: Message, ticketId: string): Promise<Record<string, string>> {
    const connection = msg.local.connection;
    if (connection === undefined || msg.local.identity !== undefined || msg.return[0]?.value !== connection) {
      throw new Refusal('not_allowed', 'not allowed: attach comes straight over the connection that is to carry the relay');
    }
    const ticket = this.tickets.get(ticketId);
    // an unknown, used or expired ticket: the answer does not say which
    if (ticket === undefined || ticket.expiresAt <= this.now()) throw new Refusal('not_allowed', 'not allowed: no such ticket');
    this.tickets.delete(ticketId);
    // still a member now (one removed while its create waited must not end up with a relay)
    if ((await this.options.membership(ticket.owner)) === undefined) {
      this.relays.delete(ticket.name);
      throw new Refusal('not_allowed', 'not allowed: no such ticket');
    }
    const relay = this.relays.get(ticket.name);
    if (relay === undefined || relay.owner !== ticket.owner) throw new Refusal('not_allowed', 'not allowed: no such ticket');
    relay.route = connectionRoute(connection);
    return { name: ticket.name, address: forwarderName(ticket.name) };
  }

  private async remove(ctx: Context, msg: Message, name: string): Promise<Record<string, string>> {
    const { identifier } = await this.caller(msg);
    const relay = isRelayName(name) ? this.relays.get(name) : undefined;
    if (relay === undefined || relay.owner !== identifier) throw new Refusal('not_found', 'relay not found');
    this.relays.delete(name);
    for (const [id, t] of this.tickets) if (t.name === name) this.tickets.delete(id);
    await ctx.node.stopWorker(forwarderName(name));
    return { name };
  }

  /** Removes every relay `identifier` holds (its membership ended); resolves with how many. */
  async removeAllOf(identifier: string): Promise<number> {
    const names = [...this.relays].filter(([, r]) => r.owner === identifier).map(([name]) => name);
    for (const name of names) {
      this.relays.delete(name);
      for (const [id, t] of this.tickets) if (t.name === name) this.tickets.delete(id);
    }
    await Promise.all(names.map((name) => this.node?.stopWorker(forwarderName(name)).catch(() => undefined)));
    return names.length;
  }

  private readonly host = {
    routeOf: (name: string): Route | undefined => this.relays.get(name)?.route,
    isConnection: (name: string): boolean => this.isConnection(name),
  };

  private drop(reason: string): void {
    this.drops.set(reason, (this.drops.get(reason) ?? 0) + 1);
    this.node?.router.drop(reason);
  }

  private now(): number {
    return this.clock?.now() ?? Date.now();
  }
}

function parse(payload: Uint8Array): RelayRequest {
  let value: unknown;
  try {
    value = JSON.parse(fromUtf8(payload));
  } catch {
    throw new Refusal('invalid_request', 'the request is not JSON');
  }
  const parsed = RelayRequestSchema.safeParse(value);
  if (!parsed.success) {
    const refusal = new Refusal('invalid_request', `invalid request: ${parsed.error.issues[0]?.path.join('.') ?? ''} ${parsed.error.issues[0]?.message ?? ''}`.trim());
    // the answer echoes a well-formed request_id even when the rest is wrong (docs/protocol.md §4)
    const id = (value as { request_id?: unknown } | null)?.request_id;
    if (typeof id === 'string' && id.length <= 256) refusal.requestId = id;
    throw refusal;
  }
  return parsed.data;
}

function positive(what: string, n: number): number {
  if (!Number.isSafeInteger(n) || n <= 0) throw new InvalidRelayOptionsError(`${what} must be a positive whole number`);
  return n;
}

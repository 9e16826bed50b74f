import { type Context, describeError, type Logger, type Message, type Node, type Route, type Worker, type Clock } from '@tessera/core';
import { connectionRoute, Forwarder, FORWARDER_ACCESS, type ForwarderDrop, type ForwarderHost } from './forwarder.js';
import { InvalidRelayOptionsError } from './errors.js';
import { RelayCounters } from './relay-counters.js';
import { FORWARDER_PREFIX, forwarderName, isRelayName, nameAllowed } from './relay-name.js';
import type { RelayRequest } from './relay-protocol.js';
import { parseRelayRequest, Refusal } from './relay-request.js';
import { RelayTickets } from './relay-tickets.js';

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
  /**
   * Bytes (payload + 64 per message) each sender — the connection its messages
   * arrive on — may add to a device's connection while messages wait for it
   * (default 65,536; see SenderShares). Beyond it a sender's messages are
   * dropped (`relay_over_share`) until the device has caught up.
   */
  senderShare?: number;
  /** Messages waiting for a connection's socket (default: asks the node's transports, `Transport.queuedFor`). */
  queuedFor?: (connection: string) => number;
  /**
   * Milliseconds between checks that the owners of the relays are still
   * members, allowed their names (default 60,000). A removal handled here
   * ends the relays at once (`removeAllOf`); this ends them on the other hubs
   * that share the members.
   */
  membershipCheckInterval?: number;
}

interface RelayEntry {
  owner: string;
  /** The device's connection, once attached. */
  route: Route | undefined;
}

/** What a relay service holds now, and what it counted since it started. */
export interface RelayServiceStats {
  /** Names bound to an identity. */
  relays: number;
  /** Of those, the ones with a device's connection attached. */
  attached: number;
  /** `create`s waiting for their `attach`. */
  pendingTickets: number;
  /** `attach`es that made a connection a relay's route. */
  registrations: number;
  /** `create` and `attach` requests refused, by failure code (`not_allowed`, `quota_exceeded`, …). */
  refused: Record<string, number>;
  /** Messages forwarders sent on: `to_device`, and `from_device` (a device's answers to its callers). */
  forwarded: Record<string, number>;
  /**
   * Messages for `forward_to_<name>` dropped, by reason: `unknown_address` (no
   * relay of that name here), `access_denied` (what a secure channel on the hub
   * delivered), `mailbox_full` (the forwarder's mailbox), `relay_detached` (no
   * device attached, or its connection is gone), `relay_refused` (a device's
   * message that answers no caller), `relay_over_share` (a sender over its
   * share of a device's connection that backs up).
   */
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
  private readonly tickets: RelayTickets;
  private readonly counters = new RelayCounters();
  private readonly requireAttribute: boolean;
  private readonly maxPerIdentity: number;
  private readonly maxRelays: number;
  private readonly forwarderMailbox: number;
  private readonly senderShare: number;
  private readonly membershipCheckInterval: number;
  private node: Node | undefined;
  private clock: Clock | undefined;
  private isConnection: (name: string) => boolean;
  private queuedFor: (connection: string) => number;
  private stopLocalDrops: (() => void) | undefined;
  private membershipTimer: unknown;
  private stopped = false;

  constructor(private readonly options: RelayServiceOptions) {
    this.requireAttribute = options.requireAttribute ?? false;
    this.maxPerIdentity = positive('maxPerIdentity', options.maxPerIdentity ?? 8);
    this.maxRelays = positive('maxRelays', options.maxRelays ?? 1_024);
    this.tickets = new RelayTickets(positive('ticketTtl', options.ticketTtl ?? 30_000));
    this.forwarderMailbox = positive('forwarderMailbox', options.forwarderMailbox ?? 1_024);
    this.senderShare = positive('senderShare', options.senderShare ?? 65_536);
    this.membershipCheckInterval = positive('membershipCheckInterval', options.membershipCheckInterval ?? 60_000);
    this.isConnection = options.isConnection ?? (() => false);
    this.queuedFor = options.queuedFor ?? (() => 0);
  }

  initialize(ctx: Context): void {
    this.node = ctx.node;
    this.clock = ctx.node.clock;
    const router = ctx.node.router;
    if (this.options.isConnection === undefined) this.isConnection = (name) => name.startsWith('ws.') && router.hasLocal(name);
    if (this.options.queuedFor === undefined) {
      this.queuedFor = (connection) => {
        for (const transport of router.allTransports()) {
          const n = transport.queuedFor?.(connection) ?? 0;
          if (n > 0) return n;
        }
        return 0;
      };
    }
    // what the router refuses at a forwarder's address (no such relay, a channel's plaintext, a full mailbox)
    this.stopLocalDrops = router.onLocalDrop((name, reason) => {
      if (name.startsWith(FORWARDER_PREFIX)) this.counters.dropped.add(reason);
    });
    this.scheduleMembershipCheck(ctx.logger);
  }

  async shutdown(ctx: Context): Promise<void> {
    this.stopped = true;
    this.stopLocalDrops?.();
    if (this.membershipTimer !== undefined) this.clock?.clearTimeout(this.membershipTimer);
    const names = [...this.relays.keys()];
    this.relays.clear();
    this.tickets.clear();
    await Promise.all(names.map((name) => ctx.node.stopWorker(forwarderName(name)).catch(() => undefined)));
  }

  stats(): RelayServiceStats {
    let attached = 0;
    for (const r of this.relays.values()) if (r.route !== undefined) attached++;
    const c = this.counters;
    return {
      relays: this.relays.size,
      attached,
      pendingTickets: this.tickets.waitingNames(this.now()).size,
      registrations: c.registrations,
      refused: c.refused.toJSON(),
      forwarded: c.forwarded.toJSON(),
      dropped: c.dropped.toJSON(),
    };
  }

  async handleMessage(ctx: Context, msg: Message): Promise<void> {
    let requestId: string | undefined;
    let action: RelayRequest['action'] | undefined;
    try {
      const request = parseRelayRequest(msg.payload);
      requestId = request.request_id;
      action = request.action;
      const answer = await this.handle(ctx, msg, request);
      ctx.reply(msg, JSON.stringify({ result: 'success', ...answer, ...(requestId === undefined ? {} : { request_id: requestId }) }));
    } catch (err) {
      const refusal = err instanceof Refusal ? err : new Refusal('internal', 'internal error');
      requestId ??= refusal.requestId;
      if (action === 'create' || action === 'attach') this.counters.refused.add(refusal.failureCode);
      if (!(err instanceof Refusal)) ctx.logger.error({ err: err instanceof Error ? err.message : String(err) }, 'relay request failed');
      ctx.reply(msg, JSON.stringify({ result: 'failure', code: refusal.failureCode, message: refusal.message, ...(requestId === undefined ? {} : { request_id: requestId }) }));
    }
  }

  private async handle(ctx: Context, msg: Message, request: RelayRequest): Promise<Record<string, string>> {
    switch (request.action) {
      case 'create':
        return this.create(ctx, msg, request.name);
      case 'attach':
        return await this.attach(ctx, msg, request.ticket);
      case 'delete':
        return this.remove(ctx, msg, request.name);
    }
  }

  private async caller(ctx: Context, msg: Message): Promise<{ identifier: string; attributes: Readonly<Record<string, string>> }> {
    const identifier = msg.local.identity;
    if (identifier === undefined) throw new Refusal('not_allowed', 'not allowed: relays are created and deleted only through a secure channel');
    const member = await this.memberOf(ctx, identifier);
    if (member === undefined) throw new Refusal('not_allowed', 'not allowed: this identity is not a member');
    return { identifier, attributes: member.attributes };
  }

  /** The membership of `identifier`; a refusal `unavailable`, in fixed words, while it cannot be read (the store is down). */
  private async memberOf(ctx: Context, identifier: string): ReturnType<RelayMembership> {
    try {
      return await this.options.membership(identifier);
    } catch (err) {
      // what the store said goes to the log only
      ctx.logger.warn({ err: describeError(err) }, 'relay request: the membership could not be read');
      throw new Refusal('unavailable', 'unavailable: the hub cannot read its members now; try again later');
    }
  }

  private async create(ctx: Context, msg: Message, name: string): Promise<Record<string, string>> {
    const { identifier, attributes } = await this.caller(ctx, msg);
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
        if (!ctx.node.router.hasLocal(forwarderName(name))) await ctx.node.startWorker(forwarderName(name), new Forwarder(name, this.host, this.senderShare), {
          incoming: FORWARDER_ACCESS,
          mailboxCapacity: this.forwarderMailbox,
        });
      } catch (err) {
        this.relays.delete(name);
        throw err;
      }
    }
    const ticket = this.tickets.issue(name, identifier, this.now());
    return { name, address: forwarderName(name), ticket: ticket.id, expires: new Date(ticket.expiresAt).toISOString() };
  }

  /** Names created but never attached, whose ticket is gone: free again (else they would hold places until a restart). */
  private async reclaimUnattached(ctx: Context): Promise<void> {
    const waiting = this.tickets.waitingNames(this.now());
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

  private async attach(ctx: Context, msg: Message, ticketId: string): Promise<Record<string, string>> {
    const connection = msg.local.connection;
    if (connection === undefined || msg.local.identity !== undefined || msg.return[0]?.value !== connection) {
      throw new Refusal('not_allowed', 'not allowed: attach comes straight over the connection that is to carry the relay');
    }
    const ticket = this.tickets.take(ticketId, this.now());
    // an unknown, used or expired ticket: the answer does not say which
    if (ticket === undefined) throw new Refusal('not_allowed', 'not allowed: no such ticket');
    // still a member now (one removed while its create waited, say on another hub, must not end up with a
    // relay): its names go, forwarders with them
    if ((await this.memberOf(ctx, ticket.owner)) === undefined) {
      await this.removeAllOf(ticket.owner);
      throw new Refusal('not_allowed', 'not allowed: no such ticket');
    }
    const relay = this.relays.get(ticket.name);
    if (relay === undefined || relay.owner !== ticket.owner) throw new Refusal('not_allowed', 'not allowed: no such ticket');
    relay.route = connectionRoute(connection);
    this.counters.registrations++;
    return { name: ticket.name, address: forwarderName(ticket.name) };
  }

  private async remove(ctx: Context, msg: Message, name: string): Promise<Record<string, string>> {
    const { identifier } = await this.caller(ctx, msg);
    const relay = isRelayName(name) ? this.relays.get(name) : undefined;
    if (relay === undefined || relay.owner !== identifier) throw new Refusal('not_found', 'relay not found');
    this.relays.delete(name);
    this.tickets.dropFor(name);
    await ctx.node.stopWorker(forwarderName(name));
    return { name };
  }

  /** Removes every relay `identifier` holds (its membership ended); resolves with how many. */
  async removeAllOf(identifier: string): Promise<number> {
    return this.removeNames([...this.relays].filter(([, r]) => r.owner === identifier).map(([name]) => name));
  }

  /**
   * Ends the relays of every owner that is no member any more, and those whose
   * name the owner's attributes no longer allow (it was removed and enrolled
   * again with others); resolves with how many. An owner whose membership
   * cannot be read now (the storage is down) keeps its relays until the next
   * check.
   */
  async removeNotAllowed(): Promise<number> {
    const owners = new Set([...this.relays.values()].map((r) => r.owner));
    let removed = 0;
    let failure: unknown;
    for (const owner of owners) {
      try {
        const member = await this.options.membership(owner);
        // what the owner holds now, right after reading its membership (a name may have changed hands meanwhile)
        const ending = [...this.relays]
          .filter(([name, r]) => r.owner === owner && (member === undefined || !nameAllowed(name, member.attributes, this.requireAttribute)))
          .map(([name]) => name);
        removed += await this.removeNames(ending);
      } catch (err) {
        failure ??= err;
      }
    }
    if (failure !== undefined) throw failure;
    return removed;
  }

  /** Frees `names` with their tickets at once, then stops their forwarders; resolves with how many. */
  private async removeNames(names: string[]): Promise<number> {
    for (const name of names) {
      this.relays.delete(name);
      this.tickets.dropFor(name);
    }
    await Promise.all(names.map((name) => this.node?.stopWorker(forwarderName(name)).catch(() => undefined)));
    return names.length;
  }

  /** Checks the owners' membership and names every membershipCheckInterval (removeNotAllowed), one check at a time. */
  private scheduleMembershipCheck(logger: Logger): void {
    if (this.stopped || this.clock === undefined) return;
    this.membershipTimer = this.clock.setTimeout(() => {
      this.membershipTimer = undefined;
      this.removeNotAllowed().then(
        (n) => n > 0 && logger.info({ removed: n }, 'relays of identities that are no members any more, or may not hold their names any more, removed'),
        (err: unknown) => logger.warn({ err: describeError(err) }, 'checking the relays’ owners failed; trying again at the next check'),
      ).finally(() => this.scheduleMembershipCheck(logger));
    }, this.membershipCheckInterval);
  }

  private readonly host: ForwarderHost = {
    routeOf: (name) => this.relays.get(name)?.route,
    isConnection: (name) => this.isConnection(name),
    queuedFor: (connection) => this.queuedFor(connection),
    dropped: (reason: ForwarderDrop) => {
      this.counters.dropped.add(reason);
      this.node?.router.drop(reason);
    },
    forwarded: (direction) => this.counters.forwarded.add(direction),
  };

  private now(): number {
    return this.clock?.now() ?? Date.now();
  }
}

function positive(what: string, n: number): number {
  if (!Number.isSafeInteger(n) || n <= 0) throw new InvalidRelayOptionsError(`${what} must be a positive whole number`);
  return n;
}

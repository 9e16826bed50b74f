import { createHash } from 'node:crypto';
import { type Address, IncomingAccess, local, type Message, type Route, type RouteOutcome, type Worker, type Context } from '@tessera/core';
import { ReplyPlaces } from './reply-places.js';
import { SenderShares } from './sender-share.js';

/** Why a forwarder dropped a message itself (counted in the node's drop counters and the service's stats). */
export type ForwarderDrop = 'relay_detached' | 'relay_refused' | 'relay_over_share';

/** What a forwarder asks its service, and tells it. */
export interface ForwarderHost {
  /** The registered route to the device (its connection), or undefined while none is attached. */
  routeOf(name: string): Route | undefined;
  /** Whether `name` is the LOCAL address of one of the hub's WebSocket connections. */
  isConnection(name: string): boolean;
  /** Messages waiting for the socket of the connection at LOCAL `name` (0 while it keeps up). */
  queuedFor(name: string): number;
  /** A message it dropped, and why. */
  dropped(reason: ForwarderDrop): void;
  /** A message it sent on: to the device, or the device's answer back to a caller. */
  forwarded(direction: 'to_device' | 'from_device'): void;
}

/**
 * The hub's worker at `forward_to_<name>` (Ockam's forwarder). Both ways it
 * hands a message only to a WebSocket connection's own address, as a sender on
 * the hub (no local information: the hub decides this hop, where a peer's
 * message to another peer's connection would be refused), so nothing on the
 * hub but a connection ever sees what it relays:
 *
 * - towards the device: onward = the registered route (the device's
 *   connection) + the rest of the onward route; return = [self] + the return
 *   route, so that answers come back through here;
 * - back from the device (a message that arrived on the registered
 *   connection and whose next hop is a connection of the hub: one a caller
 *   sent through here from, or the device's own, which its liveness checks
 *   come back on): onward = the rest, return = [self] + the return route
 *   without its first hop (the device's connection), so the far peer sees the
 *   relay, not the connection.
 *
 * A message that a secure channel delivered on the hub (one carrying an
 * identity) is refused: a channel's plaintext never leaves for another peer.
 * While the device's connection backs up, each sender gets a bounded share of
 * it (SenderShares): a flood from one is cut (`relay_over_share`), others
 * still get through.
 */
export class Forwarder implements Worker {
  /**
   * Where peers that sent through this forwarder lately asked for answers (their connection and the next
   * address of their return route), and until when: the only places the device may answer. Without it, a
   * relay's owner could reach any connection whose address it once saw in a return route, around the hub's
   * refusal of peer-to-peer hops.
   */
  private readonly repliesTo = new ReplyPlaces(MAX_REPLY_PLACES);
  private readonly shares: SenderShares;

  constructor(
    private readonly name: string,
    private readonly host: ForwarderHost,
    /** Bytes each sender may add to the device's connection while messages wait for it (see SenderShares). */
    senderShare: number,
  ) {
    this.shares = new SenderShares(senderShare);
  }

  handleMessage(ctx: Context, msg: Message): void {
    const registered = this.host.routeOf(this.name);
    if (registered === undefined) return this.host.dropped('relay_detached');
    const rest = msg.onward.slice(1);
    const next = rest[0];
    const device = registered[0];
    const fromDevice = device !== undefined && msg.local.connection === device.value && msg.return[0]?.value === device.value;
    if (fromDevice && next !== undefined && next.type === 0 && this.host.isConnection(next.value)) {
      // only back to the device itself (the answer to its own liveness check), or to where a peer that sent
      // through here lately asked for answers (its connection and the address after it, as its return route
      // named them): an answer, not a hop to any worker of any peer
      if (next.value !== device.value && !this.repliesTo.allows(next.value, addressKey(rest[1]), ctx.node.clock.now())) return this.host.dropped('relay_refused');
      if (handedOn(ctx.node.send(rest, msg.payload, { returnRoute: [ctx.address, ...msg.return.slice(1)] }))) this.host.forwarded('from_device');
      return;
    }
    const head = registered[0];
    if (head === undefined || !this.host.isConnection(head.value)) return this.host.dropped('relay_detached');
    const sender = msg.local.connection;
    if (!this.shares.admit(sender ?? '', msg.payload.length, this.host.queuedFor(head.value))) return this.host.dropped('relay_over_share');
    // who may be answered: a peer's connection that sent through here (not the device's own, whose liveness checks come back to it)
    if (sender !== undefined && !fromDevice && msg.return[0]?.value === sender) this.repliesTo.remember(sender, addressKey(msg.return[1]), ctx.node.clock.now() + REPLY_WINDOW_MS);
    if (handedOn(ctx.node.send([...registered, ...rest], msg.payload, { returnRoute: [ctx.address, ...msg.return] }))) this.host.forwarded('to_device');
  }
}

/** How long a connection that sent through a forwarder may be answered through it (ms), and how many such places are remembered. */
const REPLY_WINDOW_MS = 10 * 60_000;
const MAX_REPLY_PLACES = 1_024;

/** Whether the node took a message on (to a connection: its own drops, e.g. `queue_full`, are counted there). */
function handedOn(outcome: RouteOutcome): boolean {
  return outcome === 'delivered' || outcome === 'sent';
}

/**
 * The key of the address a return route named after a caller's connection (none: the connection alone):
 * a long one by its SHA-256, so that what a forwarder keeps is bounded in bytes too, not just in places
 * (an address may be as long as a message: 1,024 of them would hold the hub's memory for REPLY_WINDOW_MS).
 */
function addressKey(after: Address | undefined): string {
  if (after === undefined) return '';
  if (after.value.length <= MAX_KEPT_ADDRESS) return `${after.type}#${after.value}`;
  return `${after.type}=${createHash('sha256').update(after.value).digest('base64url')}`;
}

/** The longest address a forwarder keeps as it is (a reply address is 18 characters). */
const MAX_KEPT_ADDRESS = 64;

/** A forwarder takes peers' messages straight over connections, never what a secure channel on the hub delivered. */
export const FORWARDER_ACCESS: IncomingAccess = IncomingAccess.where((msg) => msg.local.identity === undefined);

/** The route over a connection: [0#<connection>]. */
export function connectionRoute(connection: string): Route {
  return Object.freeze([local(connection)]);
}

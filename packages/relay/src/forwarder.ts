import { IncomingAccess, local, type Message, type Route, type Worker, type Context } from '@tessera/core';

/** What a forwarder asks its service: where the device is now, and which LOCAL names are peers' connections. */
export interface ForwarderHost {
  /** The registered route to the device (its connection), or undefined while none is attached. */
  routeOf(name: string): Route | undefined;
  /** Whether `name` is the LOCAL address of one of the hub's WebSocket connections. */
  isConnection(name: string): boolean;
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
 *   connection and whose next hop is another connection of the hub): onward =
 *   the rest, return = [self] + the return route without its first hop (the
 *   device's connection), so the far peer sees the relay, not the connection.
 *
 * A message that a secure channel delivered on the hub (one carrying an
 * identity) is refused: a channel's plaintext never leaves for another peer.
 */
export class Forwarder implements Worker {
  constructor(
    private readonly name: string,
    private readonly host: ForwarderHost,
    private readonly dropped: (reason: 'relay_detached' | 'relay_refused') => void,
  ) {}

  handleMessage(ctx: Context, msg: Message): void {
    const registered = this.host.routeOf(this.name);
    if (registered === undefined) return this.dropped('relay_detached');
    const rest = msg.onward.slice(1);
    const next = rest[0];
    const device = registered[0];
    const fromDevice = device !== undefined && msg.local.connection === device.value && msg.return[0]?.value === device.value;
    if (fromDevice && next !== undefined && next.type === 0 && this.host.isConnection(next.value)) {
      ctx.node.send(rest, msg.payload, { returnRoute: [ctx.address, ...msg.return.slice(1)] });
      return;
    }
    const head = registered[0];
    if (head === undefined || !this.host.isConnection(head.value)) return this.dropped('relay_detached');
    ctx.node.send([...registered, ...rest], msg.payload, { returnRoute: [ctx.address, ...msg.return] });
  }
}

/** A forwarder takes peers' messages straight over connections, never what a secure channel on the hub delivered. */
export const FORWARDER_ACCESS: IncomingAccess = IncomingAccess.where((msg) => msg.local.identity === undefined);

/** The route over a connection: [0#<connection>]. */
export function connectionRoute(connection: string): Route {
  return Object.freeze([local(connection)]);
}

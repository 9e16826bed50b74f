import { LOCAL } from './address.js';
import { DropCounters, type DropReason } from './drop-counters.js';
import type { IncomingAccess } from './incoming-access.js';
import type { Message } from './message.js';
import type { Transport } from './transport.js';

/** Takes a message for a LOCAL address; false when it refused it (e.g. a full mailbox). */
export type Sink = (msg: Message) => boolean;

/** What happened to a routed message. */
export type RouteOutcome = 'delivered' | 'sent' | DropReason;

/** Told of a message the router dropped at a LOCAL address: the address's name, and why (`unknown_address`, `access_denied`, `mailbox_full`). */
export type LocalDropListener = (name: string, reason: DropReason) => void;

interface LocalEntry {
  readonly sink: Sink;
  /** Undefined lets everyone in, and costs nothing on the hot path. */
  readonly incoming: IncomingAccess | undefined;
}

/**
 * docs/protocol.md §2: look at the head of onward; LOCAL and registered → that
 * sink, if its access policy lets the message in; another type → its
 * transport; anything else is dropped and counted.
 */
export class Router {
  readonly drops = new DropCounters();
  private readonly sinks = new Map<string, LocalEntry>();
  private readonly transports = new Map<number, Transport>();
  private readonly localDropListeners = new Set<LocalDropListener>();

  route(msg: Message): RouteOutcome {
    const head = msg.onward[0];
    if (head === undefined) return this.drop('empty_onward');
    if (head.type === LOCAL) {
      const entry = this.sinks.get(head.value);
      if (entry === undefined) return this.dropAt(head.value, 'unknown_address');
      if (entry.incoming !== undefined && !allows(entry.incoming, msg)) return this.dropAt(head.value, 'access_denied');
      return entry.sink(msg) ? 'delivered' : this.dropAt(head.value, 'mailbox_full');
    }
    const transport = this.transports.get(head.type);
    if (transport === undefined) return this.drop('no_transport');
    transport.send(msg);
    return 'sent';
  }

  drop(reason: DropReason): DropReason {
    this.drops.add(reason);
    return reason;
  }

  /**
   * Calls `listener` for each message dropped at a LOCAL address from now on
   * (counted as ever in `drops`), e.g. a service counting what was refused at
   * the addresses it owns. Returns what stops it. A listener that throws is
   * ignored: it cannot break routing.
   */
  onLocalDrop(listener: LocalDropListener): () => void {
    this.localDropListeners.add(listener);
    return () => void this.localDropListeners.delete(listener);
  }

  private dropAt(name: string, reason: DropReason): DropReason {
    this.drops.add(reason);
    for (const listener of this.localDropListeners) {
      try {
        listener(name, reason);
      } catch {
        // a listener's bug is its own: the message is dropped and counted either way
      }
    }
    return reason;
  }

  hasLocal(name: string): boolean {
    return this.sinks.has(name);
  }

  /** Registers a LOCAL address, open to whom `incoming` lets in (default: anyone); false if it is taken. */
  addLocal(name: string, sink: Sink, incoming?: IncomingAccess): boolean {
    if (this.sinks.has(name)) return false;
    this.sinks.set(name, { sink, incoming });
    return true;
  }

  removeLocal(name: string): void {
    this.sinks.delete(name);
  }

  /** Registers the transport for its address type; false if one is there already. */
  addTransport(transport: Transport): boolean {
    if (this.transports.has(transport.type)) return false;
    this.transports.set(transport.type, transport);
    return true;
  }

  getTransport(type: number): Transport | undefined {
    return this.transports.get(type);
  }

  allTransports(): Transport[] {
    return [...this.transports.values()];
  }
}

/** A policy that throws refuses: a bug in a predicate must not let a peer in, nor crash the router. */
function allows(incoming: IncomingAccess, msg: Message): boolean {
  try {
    return incoming(msg) === true;
  } catch {
    return false;
  }
}

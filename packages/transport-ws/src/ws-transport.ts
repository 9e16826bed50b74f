import { randomBytes } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { ClosedError, type Message, type Node, QueueFullError, type Transport, WS } from '@tessera/core';
import type WebSocket from 'ws';
import { CloseCode } from './close-code.js';
import { Connection, type ConnectionHooks } from './connection.js';
import { startListener, type WsListener } from './listener.js';
import {
  type ListenOptions,
  type ResolvedWsTransportOptions,
  targetUrl,
  type WsTransportOptions,
  WsTransportOptionsSchema,
} from './options.js';
import { type ConnectionStatus, StatusStream } from './status.js';

/** Facts about one open or reconnecting connection. */
export interface ConnectionInfo {
  /** The LOCAL address that leads over this connection. */
  name: string;
  peer: string;
  direction: 'incoming' | 'outgoing';
  open: boolean;
  queued: number;
  /** Bytes the socket holds that are not written out yet. */
  buffered: number;
  /** When the peer was last heard from, on the transport's clock (ms). */
  lastSeen: number;
}

/** What the transport holds, and what it turned away, over all its listeners. */
export interface WsTransportStats {
  incoming: number;
  outgoing: number;
  /** Upgrades refused with HTTP 503 (`maxConnections`). */
  refusedUpgrades: number;
  /** TCP connections closed at once at the socket cap. */
  refusedSockets: number;
  /** TCP connections destroyed for not finishing their handshake (`handshakeTimeout`). */
  handshakeTimeouts: number;
  /** Connections terminated because the peer left our writes unread (`slowPeerTimeout`). */
  slowPeers: number;
}

/**
 * The WebSocket transport (address type 3, docs/protocol.md §3). It both listens
 * and connects; outgoing connections are made on first use and reused.
 * Emits `status` with a ConnectionStatus.
 */
export class WebSocketTransport extends EventEmitter implements Transport {
  readonly type = WS;
  readonly options: ResolvedWsTransportOptions;
  private readonly outgoing = new Map<string, Connection>();
  /** Outgoing connections by the address value used to reach them (a cache over `outgoing`). */
  private readonly byTarget = new Map<string, Connection>();
  private readonly incoming = new Set<Connection>();
  /** Every connection, incoming and outgoing, by its LOCAL name. */
  private readonly byName = new Map<string, Connection>();
  private readonly wsListeners: WsListener[] = [];
  private readonly streams = new Set<StatusStream>();
  private nextId = 0;
  private slowPeers = 0;
  private stopped = false;

  constructor(
    private readonly node: Node,
    options: WsTransportOptions = {},
  ) {
    super();
    this.options = WsTransportOptionsSchema.parse(options);
    node.registerTransport(this);
  }

  /** Whether a peer's message may be sent on to a WS address (the `forwarding` option). */
  get forwardsPeers(): boolean {
    return this.options.forwarding;
  }

  /** Listens for peers; resolves once the port is bound. */
  async listen(options: ListenOptions = {}): Promise<WsListener> {
    if (this.stopped) throw new ClosedError('transport stopped');
    const context = { maxMessageSize: this.options.maxMessageSize, logger: this.node.logger, clock: this.options.clock };
    const listener = await startListener(options, context, (socket, request) =>
      this.accept(socket, `${request.socket.remoteAddress ?? '?'}:${request.socket.remotePort ?? 0}`),
    );
    this.wsListeners.push(listener);
    return listener;
  }

  /** Sends a message whose onward head is a WS address, over a connection made on first use. */
  send(msg: Message): void {
    const head = msg.onward[0];
    if (head === undefined) return;
    if (this.stopped) {
      this.node.router.drop('stopped');
      this.node.failRequest(msg.return, new ClosedError('transport stopped'));
      return;
    }
    // from a peer: over a connection, or through a secure channel (which names the peer's identity)
    if (!this.options.forwarding && (msg.local.connection !== undefined || msg.local.identity !== undefined)) {
      this.node.router.drop('forwarding_refused');
      return;
    }
    let connection: Connection;
    try {
      connection = this.connect(head.value);
    } catch (err) {
      // a bad address (perhaps from a peer's frame), or one connection too many: dropped and counted, never thrown into the router
      this.node.router.drop(err instanceof QueueFullError ? 'too_many_connections' : 'invalid_address');
      this.node.failRequest(msg.return, err instanceof Error ? err : new Error(String(err)));
      return;
    }
    connection.write(msg);
  }

  /** The outgoing connection to `host:port` or a ws:// URL, dialled if there is none. */
  connect(target: string): Connection {
    const known = this.byTarget.get(target);
    if (known !== undefined) return known;
    const url = targetUrl(target);
    let connection = this.outgoing.get(url);
    if (connection === undefined) {
      if (this.outgoing.size >= this.options.maxOutgoing) {
        throw new QueueFullError(`already ${this.outgoing.size} outgoing connections (maxOutgoing)`);
      }
      connection = new Connection(this.node, this.newName(), url, this.options, this.hooks(), url);
      this.outgoing.set(url, connection);
      this.byName.set(connection.name, connection);
      connection.dial();
    }
    this.byTarget.set(target, connection);
    return connection;
  }

  /** Open and reconnecting connections. */
  connections(): ConnectionInfo[] {
    const info = (c: Connection, direction: ConnectionInfo['direction']): ConnectionInfo => ({
      name: c.name,
      peer: c.peer,
      direction,
      open: c.isOpen,
      queued: c.queued,
      buffered: c.buffered,
      lastSeen: c.lastSeen,
    });
    return [...[...this.incoming].map((c) => info(c, 'incoming')), ...[...this.outgoing.values()].map((c) => info(c, 'outgoing'))];
  }

  /**
   * Messages waiting for the socket of the connection at LOCAL `name` (it is
   * down, or the peer reads slower than it is sent to: its socket holds
   * `highWaterMark` bytes already); 0 while it keeps up, and for a name that is
   * no connection. A look-up, cheap enough for each message.
   */
  queuedFor(name: string): number {
    return this.byName.get(name)?.queued ?? 0;
  }

  /** Counters: connections held, and those turned away or dropped by the limits. */
  stats(): WsTransportStats {
    const totals: WsTransportStats = {
      incoming: this.incoming.size,
      outgoing: this.outgoing.size,
      refusedUpgrades: 0,
      refusedSockets: 0,
      handshakeTimeouts: 0,
      slowPeers: this.slowPeers,
    };
    for (const l of this.wsListeners) {
      const s = l.stats();
      totals.refusedUpgrades += s.refusedUpgrades;
      totals.refusedSockets += s.refusedSockets;
      totals.handshakeTimeouts += s.handshakeTimeouts;
    }
    return totals;
  }

  /** Connection statuses from now on, as an async iterator (ends when the transport stops). */
  status(): AsyncIterable<ConnectionStatus> {
    const stream = new StatusStream();
    this.streams.add(stream);
    return stream;
  }

  async stopAccepting(): Promise<void> {
    await Promise.all(this.wsListeners.map((l) => l.close()));
  }

  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    await this.stopAccepting();
    const all = [...this.incoming, ...this.outgoing.values()];
    const gone = all.map((c) => new Promise<void>((resolve) => this.once(`gone:${c.name}`, resolve)));
    for (const c of all) c.close(CloseCode.goingAway, 'node stopping');
    await Promise.all(gone);
    for (const s of this.streams) s.end();
    this.streams.clear();
  }

  private accept(socket: WebSocket, peer: string): void {
    if (this.stopped) {
      socket.close(CloseCode.goingAway, 'node stopping');
      return;
    }
    const connection = new Connection(this.node, this.newName(), peer, this.options, this.hooks());
    this.incoming.add(connection);
    this.byName.set(connection.name, connection);
    connection.attach(socket);
  }

  private hooks(): ConnectionHooks {
    return {
      slowPeer: () => this.slowPeers++,
      status: (status: ConnectionStatus) => {
        for (const s of this.streams) s.push(status);
        this.emit('status', status);
      },
      gone: (c: Connection) => {
        this.incoming.delete(c);
        this.byName.delete(c.name);
        if (c.dialUrl !== undefined && this.outgoing.get(c.dialUrl) === c) this.outgoing.delete(c.dialUrl);
        for (const [target, known] of this.byTarget) if (known === c) this.byTarget.delete(target);
        this.emit(`gone:${c.name}`);
      },
    };
  }

  /**
   * A connection's LOCAL name: a counter for people, and 48 random bits so a
   * name is never reused, not after a restart and not on another hub (until
   * secure channels exist, a lease's owner can be the caller's connection).
   */
  private newName(): string {
    return `ws.${++this.nextId}.${randomBytes(6).toString('hex')}`;
  }
}

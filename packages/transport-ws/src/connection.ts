import {
  type Address,
  backoffDelay,
  ClosedError,
  ConnectionError,
  describeError,
  IncomingAccess,
  local,
  type Message,
  type Node,
  QueueFullError,
  type Route,
} from '@tessera/core';
import WebSocket from 'ws';

import { CloseCode } from './close-code.js';
import { dial } from './dialer.js';
import { encodeFrame } from './frame.js';
import { Inbound } from './inbound.js';
import { Liveness } from './liveness.js';
import type { ResolvedWsTransportOptions } from './options.js';
import { Outbound } from './outbound.js';
import type { ConnectionStatus } from './status.js';
import { unrefTimer } from './timer.js';

export { CloseCode } from './close-code.js';

/** How long a peer may take to answer our close frame before its socket is cut. */
const CLOSE_GRACE = 2_000;

export interface ConnectionHooks {
  status(status: ConnectionStatus): void;
  /** The connection is closed for good and must be forgotten. */
  gone(connection: Connection): void;
  /** The peer left our writes unread past `slowPeerTimeout`; its socket was terminated. */
  slowPeer(connection: Connection): void;
}

/**
 * One WebSocket peer, seen by the router as a LOCAL address (`ws.N.…`): a
 * message routed there has that head popped and the rest written as a frame.
 * An outgoing connection (one with a `dialUrl`) reconnects with back-off and
 * holds messages, up to a bound, while it is down.
 */
export class Connection {
  readonly address: Address;
  private socket: WebSocket | undefined;
  /** The socket being opened, until it opens or fails. */
  private dialing: WebSocket | undefined;
  private readonly outbound: Outbound;
  private readonly inbound: Inbound;
  private readonly liveness: Liveness;
  private reconnectTimer: unknown;
  private attempt = 0;
  private closing = false;
  /** Whether this connection was ever open: one that never was fails fast instead of reconnecting. */
  private everOpen = false;
  private failure: Error | undefined;
  private readonly unregister: () => void;

  constructor(
    private readonly node: Node,
    readonly name: string,
    readonly peer: string,
    private readonly options: ResolvedWsTransportOptions,
    private readonly hooks: ConnectionHooks,
    readonly dialUrl?: string,
  ) {
    this.address = local(name);
    const clock = options.clock;
    this.outbound = new Outbound(options, (socket) => this.slowPeer(socket));
    this.inbound = new Inbound(node, this.address, Object.freeze({ connection: name }), options);
    const interval = options.pingInterval ?? Math.max(10, Math.floor(options.livenessTimeout / 3));
    this.liveness = new Liveness(clock, options.livenessTimeout, interval, (socket) => {
      node.logger.info({ connection: name, peer }, 'peer silent too long; closing');
      socket.terminate();
    });
    this.unregister = node.registerSink(
      name,
      (msg) => {
        this.write(msg);
        return true;
      },
      // relaying one peer's message to another peer is forwarding, whichever way it is addressed
      { incoming: options.forwarding ? notFromUnforwardableChannels : notFromOtherPeers(name) },
    );
  }

  get isOpen(): boolean {
    return this.socket?.readyState === WebSocket.OPEN;
  }

  /** Messages waiting for the socket (down, or backed up). */
  get queued(): number {
    return this.outbound.queued;
  }

  /** Bytes the socket holds that are not written out yet. */
  get buffered(): number {
    return this.socket?.bufferedAmount ?? 0;
  }

  /** When the peer was last heard from, on the transport's clock (ms). */
  get lastSeen(): number {
    return this.liveness.lastSeen;
  }

  /** Takes over an accepted or freshly opened socket. */
  attach(socket: WebSocket): void {
    this.socket = socket;
    socket.binaryType = 'nodebuffer';
    this.inbound.reset();
    socket.on('message', (data: Buffer, isBinary: boolean) => {
      if (socket !== this.socket) return;
      this.liveness.seen();
      this.inbound.receive(socket, data, isBinary);
    });
    socket.on('error', (err) => this.node.logger.debug({ connection: this.name, err: describeError(err) }, 'websocket error'));
    socket.on('close', (code, reason) => this.closed(socket, code, reason.toString('utf8')));
    this.liveness.start(socket);
    this.attempt = 0;
    this.everOpen = true;
    this.hooks.status({ type: 'connected', connection: this.name, peer: this.peer });
    this.outbound.attach(socket);
  }

  /** Sends a message whose head is this connection (or its WS address): pop it, write the rest. */
  write(msg: Message): void {
    if (this.closing) {
      this.dropMessage(msg.return, 'connection_closed', new ClosedError(`connection to ${this.peer} is closed`));
      return;
    }
    if (!this.outbound.send(encodeFrame(msg.onward, msg.return, msg.payload, 1), msg.return)) {
      this.dropMessage(
        msg.return,
        'queue_full',
        new QueueFullError(`more than ${this.options.maxQueued} messages or ${this.options.maxQueuedBytes} bytes waiting for ${this.peer}`),
      );
    }
  }

  /** Closes for good (no reconnect). */
  close(code: number = CloseCode.normal, reason = ''): void {
    if (this.closing) return;
    this.closing = true;
    this.options.clock.clearTimeout(this.reconnectTimer);
    const socket = this.socket;
    if (socket !== undefined && socket.readyState !== WebSocket.CLOSED) {
      socket.close(code, reason);
      // a peer that does not answer the close handshake is cut off
      unrefTimer(this.options.clock.setTimeout(() => socket.terminate(), CLOSE_GRACE));
    } else {
      const dialing = this.dialing;
      this.dialing = undefined;
      dialing?.terminate();
      this.finish();
    }
  }

  /** Opens (or reopens) an outgoing connection. */
  dial(): void {
    if (this.dialUrl === undefined || this.closing) return;
    this.dialing = dial(this.dialUrl, this.options, {
      opened: (socket) => {
        this.dialing = undefined;
        if (this.closing) {
          socket.terminate();
          return;
        }
        this.attach(socket);
      },
      failed: (socket, code, reason) => {
        if (this.dialing === socket) this.dialing = undefined;
        this.closed(socket, code, reason);
      },
      error: (err) => {
        this.failure = err;
        this.node.logger.debug({ connection: this.name, err: describeError(err) }, 'websocket error');
      },
    });
  }

  private slowPeer(socket: WebSocket): void {
    this.node.logger.info({ connection: this.name, peer: this.peer }, 'peer left our writes unread too long; dropping it');
    this.hooks.slowPeer(this);
    socket.terminate();
  }

  private closed(socket: WebSocket, code: number, reason: string): void {
    if (this.socket !== undefined && socket !== this.socket) return;
    this.liveness.stop();
    this.outbound.detach();
    const wasOpen = this.socket !== undefined;
    this.socket = undefined;
    if (wasOpen) this.hooks.status({ type: 'disconnected', connection: this.name, peer: this.peer, code, reason });
    if (this.closing || this.dialUrl === undefined) {
      this.finish();
      return;
    }
    if (!this.everOpen) {
      // never reached: tell the senders now rather than at their timeouts; the next send dials again
      this.closing = true;
      const why = this.failure?.message ?? reason;
      this.finish(new ConnectionError(`could not connect to ${this.peer}: ${why}`));
      return;
    }
    const limit = this.options.reconnect.maxAttempts;
    if (limit !== undefined && this.attempt >= limit) {
      this.closing = true;
      this.finish();
      return;
    }
    const delay = backoffDelay(this.attempt, this.options.reconnect);
    this.attempt++;
    this.hooks.status({ type: 'reconnecting', connection: this.name, peer: this.peer, attempt: this.attempt, delay });
    this.reconnectTimer = this.options.clock.setTimeout(() => this.dial(), delay);
  }

  private finish(err: Error = new ClosedError(`connection to ${this.peer} is closed`)): void {
    this.liveness.stop();
    this.options.clock.clearTimeout(this.reconnectTimer);
    this.closing = true;
    this.unregister();
    this.outbound.clear((back) => this.dropMessage(back, 'connection_closed', err));
    this.hooks.status({ type: 'closed', connection: this.name, peer: this.peer });
    this.hooks.gone(this);
  }

  private dropMessage(back: Route, reason: string, err: Error): void {
    this.node.router.drop(reason);
    this.node.failRequest(back, err);
  }
}

/** Lets in messages from this node and from the connection's own peer, not from a peer on another connection. */
/**
 * With forwarding on: any peer over a connection, but a message a secure channel delivered only
 * if that channel end forwards (its plaintext must never leave for another peer otherwise).
 */
const notFromUnforwardableChannels: IncomingAccess = IncomingAccess.where((msg) => msg.local.identity === undefined || msg.local.forwardable === true);

function notFromOtherPeers(name: string): IncomingAccess {
  // a message a secure channel delivered came from a remote peer too (it carries the peer's identity)
  return IncomingAccess.where((msg) => msg.local.identity === undefined && (msg.local.connection === undefined || msg.local.connection === name));
}

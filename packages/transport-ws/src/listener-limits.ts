import type { Server } from 'node:http';
import type { Duplex } from 'node:stream';
import type { Clock } from '@tessera/core';
import { SOCKET_HEADROOM } from './options.js';
import { unrefTimer } from './timer.js';

/** What a listener has let in and turned away. */
export interface ListenerStats {
  /** TCP connections open, whatever their state. */
  sockets: number;
  /** WebSocket connections open, plus upgrades in progress. */
  connections: number;
  /** Upgrades refused with HTTP 503 because `maxConnections` were in use. */
  refusedUpgrades: number;
  /** TCP connections closed at once because the socket cap was reached. */
  refusedSockets: number;
  /** TCP connections destroyed for not finishing their handshake within `handshakeTimeout`. */
  handshakeTimeouts: number;
}

/**
 * Bounds what one listener lets in (docs/protocol.md §3): WebSocket
 * connections (upgrades in progress included) to `maxConnections`, raw TCP
 * sockets to a little more, and the time a socket may take to become a
 * WebSocket to `handshakeTimeout` (a slowloris gets nothing but a timer).
 */
export class ListenerLimits {
  private readonly counts: ListenerStats = { sockets: 0, connections: 0, refusedUpgrades: 0, refusedSockets: 0, handshakeTimeouts: 0 };
  private readonly handshakes = new WeakMap<Duplex, unknown>();

  constructor(
    private readonly maxConnections: number,
    private readonly handshakeTimeout: number,
    private readonly clock: Clock,
  ) {}

  /** Caps the server's sockets and starts a handshake timer for each new one. */
  guard(server: Server, tls: boolean): void {
    server.maxConnections = this.maxConnections + SOCKET_HEADROOM;
    server.on('drop', () => this.counts.refusedSockets++);
    server.on('connection', (socket: Duplex) => {
      this.counts.sockets++;
      socket.once('close', () => this.counts.sockets--);
    });
    // over TLS the timer starts once the TLS handshake is done (which tls.Server times out itself)
    server.on(tls ? 'secureConnection' : 'connection', (socket: Duplex) => this.startHandshake(socket));
  }

  /** An upgrade request arrived: true if there is room, and then it counts until its socket closes. */
  admit(socket: Duplex): boolean {
    if (this.counts.connections >= this.maxConnections) {
      this.counts.refusedUpgrades++;
      return false;
    }
    this.counts.connections++;
    socket.once('close', () => this.counts.connections--);
    return true;
  }

  /** The socket is a WebSocket now: its handshake timer stops. */
  upgraded(socket: Duplex): void {
    this.clock.clearTimeout(this.handshakes.get(socket));
    this.handshakes.delete(socket);
  }

  stats(): ListenerStats {
    return { ...this.counts };
  }

  private startHandshake(socket: Duplex): void {
    const timer = this.clock.setTimeout(() => {
      if (!this.handshakes.has(socket)) return;
      this.handshakes.delete(socket);
      this.counts.handshakeTimeouts++;
      socket.destroy();
    }, this.handshakeTimeout);
    unrefTimer(timer);
    this.handshakes.set(socket, timer);
    socket.once('close', () => this.upgraded(socket));
  }
}

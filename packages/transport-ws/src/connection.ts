import {
  type Address,
  backoffDelay,
  ClosedError,
  ConnectionError,
  describeError,
  local,
  type LocalInfo,
  type Message,
  type Node,
  QueueFullError,
} from '@tessera/core';
import type { Socket } from 'node:net';
import WebSocket from 'ws';

import { decodeFrame, encodeFrame } from './frame.js';
import { type ResolvedWsTransportOptions, SUBPROTOCOL } from './options.js';
import type { ConnectionStatus } from './status.js';

/** Close codes of RFC 6455 that PROTOCOL.md §3 uses. */
export const CloseCode = {
  normal: 1000,
  goingAway: 1001,
  protocolError: 1002,
  unsupportedData: 1003,
  messageTooBig: 1009,
} as const;

const BINARY = { binary: true } as const;

export interface ConnectionHooks {
  status(status: ConnectionStatus): void;
  /** The connection is closed for good and must be forgotten. */
  gone(connection: Connection): void;
}

/**
 * One WebSocket peer, seen by the router as a LOCAL address (`ws.N`): a
 * message routed there has that head popped and the rest written as a frame.
 * An outgoing connection (one with a `dialUrl`) reconnects with back-off and
 * holds messages, up to a bound, while it is down.
 */
export class Connection {
  readonly address: Address;
  private socket: WebSocket | undefined;
  /** The socket being opened, until it opens or fails. */
  private dialing: WebSocket | undefined;
  private readonly queue: Buffer[] = [];
  private queueHead = 0;
  private readonly returnQueue: Message['return'][] = [];
  private queuedBytes = 0;
  private paused = false;
  private corked = false;
  private badFrames = 0;
  private lastSeen = 0;
  private livenessTimer: ReturnType<typeof setInterval> | undefined;
  private reconnectTimer: ReturnType<typeof setTimeout> | undefined;
  private attempt = 0;
  private closing = false;
  /** Whether this connection was ever open: one that never was fails fast instead of reconnecting. */
  private everOpen = false;
  private failure: Error | undefined;
  private readonly localInfo: LocalInfo;
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
    this.localInfo = Object.freeze({ connection: name });
    this.unregister = node.registerSink(name, (msg) => {
      this.write(msg);
      return true;
    });
  }

  get isOpen(): boolean {
    return this.socket?.readyState === WebSocket.OPEN;
  }

  /** Messages waiting for the socket (down, or backed up). */
  get queued(): number {
    return this.queue.length - this.queueHead;
  }

  /** Takes over an accepted or freshly opened socket. */
  attach(socket: WebSocket): void {
    this.socket = socket;
    this.badFrames = 0;
    this.lastSeen = Date.now();
    socket.binaryType = 'nodebuffer';
    socket.on('message', (data: Buffer, isBinary: boolean) => this.receive(socket, data, isBinary));
    socket.on('pong', () => (this.lastSeen = Date.now()));
    socket.on('ping', () => (this.lastSeen = Date.now()));
    socket.on('error', (err) => this.node.logger.debug({ connection: this.name, err: describeError(err) }, 'websocket error'));
    socket.on('close', (code, reason) => this.closed(socket, code, reason.toString('utf8')));
    const interval = this.options.pingInterval ?? Math.max(10, Math.floor(this.options.livenessTimeout / 3));
    this.livenessTimer = setInterval(() => this.checkLiveness(socket), interval);
    this.livenessTimer.unref();
    this.attempt = 0;
    this.everOpen = true;
    this.hooks.status({ type: 'connected', connection: this.name, peer: this.peer });
    this.flush();
  }

  /** Sends a message whose head is this connection (or its WS address): pop it, write the rest. */
  write(msg: Message): void {
    if (this.closing) {
      this.dropMessage(msg.return, 'connection_closed', new ClosedError(`connection to ${this.peer} is closed`));
      return;
    }
    const frame = encodeFrame(msg.onward, msg.return, msg.payload, 1);
    const socket = this.socket;
    if (!this.paused && this.queued === 0 && socket !== undefined && socket.readyState === WebSocket.OPEN) {
      this.sendNow(socket, frame);
      return;
    }
    if (this.queued >= this.options.maxQueued || this.queuedBytes + frame.length > this.options.maxQueuedBytes) {
      this.dropMessage(
        msg.return,
        'queue_full',
        new QueueFullError(`more than ${this.options.maxQueued} messages or ${this.options.maxQueuedBytes} bytes waiting for ${this.peer}`),
      );
      return;
    }
    this.queuedBytes += frame.length;
    this.queue.push(frame);
    this.returnQueue.push(msg.return);
  }

  /** Closes for good (no reconnect). */
  close(code: number = CloseCode.normal, reason = ''): void {
    if (this.closing) return;
    this.closing = true;
    clearTimeout(this.reconnectTimer);
    const socket = this.socket;
    if (socket !== undefined && socket.readyState !== WebSocket.CLOSED) {
      socket.close(code, reason);
      // a peer that does not answer the close handshake is cut off
      setTimeout(() => socket.terminate(), 2_000).unref();
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
    const tls = this.options.clientTls;
    const socket = new WebSocket(this.dialUrl, SUBPROTOCOL, {
      maxPayload: this.options.maxMessageSize,
      perMessageDeflate: false,
      handshakeTimeout: this.options.connectTimeout,
      ...(tls === undefined ? {} : { ca: tls.ca, rejectUnauthorized: tls.rejectUnauthorized }),
    });
    socket.on('error', (err) => {
      this.failure = err;
      this.node.logger.debug({ connection: this.name, err: describeError(err) }, 'websocket error');
    });
    this.dialing = socket;
    const failed = () => {
      if (this.dialing === socket) this.dialing = undefined;
      this.closed(socket, 1006, 'connection failed');
    };
    socket.once('close', failed);
    socket.once('open', () => {
      socket.off('close', failed);
      this.dialing = undefined;
      if (this.closing) {
        socket.terminate();
        return;
      }
      if (socket.protocol !== SUBPROTOCOL) {
        socket.close(CloseCode.protocolError, 'subprotocol tessera.v1 required');
        this.closed(socket, CloseCode.protocolError, 'peer did not agree to tessera.v1');
        return;
      }
      this.attach(socket);
    });
  }

  private sendNow(socket: WebSocket, frame: Buffer): void {
    if (socket.bufferedAmount >= this.options.highWaterMark) {
      // back-pressure: let this one go, hold the next ones until the socket has written it out
      this.paused = true;
      socket.send(frame, BINARY, () => {
        this.paused = false;
        this.flush();
      });
      return;
    }
    this.cork(socket);
    socket.send(frame, BINARY);
  }

  /**
   * Holds the socket's writes until the end of this tick, so a burst of
   * messages leaves in one writev instead of a syscall each.
   */
  private cork(socket: WebSocket): void {
    if (this.corked) return;
    const raw = (socket as unknown as { _socket?: Socket })._socket;
    if (raw === undefined) return;
    this.corked = true;
    raw.cork();
    process.nextTick(() => {
      this.corked = false;
      raw.uncork();
    });
  }

  private flush(): void {
    const socket = this.socket;
    while (this.queued > 0 && !this.paused && socket !== undefined && socket.readyState === WebSocket.OPEN) {
      const frame = this.queue[this.queueHead]!;
      this.queuedBytes -= frame.length;
      this.queue[this.queueHead] = undefined as unknown as Buffer;
      this.returnQueue[this.queueHead] = [];
      this.queueHead++;
      this.sendNow(socket, frame);
    }
    if (this.queued === 0) {
      this.queue.length = 0;
      this.returnQueue.length = 0;
      this.queueHead = 0;
    }
  }

  private receive(socket: WebSocket, data: Buffer, isBinary: boolean): void {
    if (socket !== this.socket) return;
    this.lastSeen = Date.now();
    if (!isBinary) {
      this.node.router.drop('text_frame');
      socket.close(CloseCode.unsupportedData, 'binary frames only');
      return;
    }
    let frame;
    try {
      frame = decodeFrame(data, this.address);
    } catch (err) {
      this.node.router.drop('invalid_frame');
      if (++this.badFrames >= this.options.badFrameLimit) {
        socket.close(CloseCode.protocolError, 'too many invalid frames');
      }
      this.node.logger.debug({ connection: this.name, err: describeError(err) }, 'invalid frame dropped');
      return;
    }
    if (frame.onward.length === 0) return; // a heartbeat: consumed here, never delivered
    try {
      this.node.route({ onward: frame.onward, return: frame.return, payload: frame.payload, local: this.localInfo });
    } catch (err) {
      // nothing a peer sends may crash the node: count it and go on
      this.node.router.drop('route_failed');
      this.node.logger.warn({ connection: this.name, err: describeError(err) }, 'routing a message from a peer failed');
    }
  }

  private checkLiveness(socket: WebSocket): void {
    if (socket !== this.socket || socket.readyState !== WebSocket.OPEN) return;
    if (Date.now() - this.lastSeen > this.options.livenessTimeout) {
      this.node.logger.info({ connection: this.name, peer: this.peer }, 'peer silent too long; closing');
      socket.terminate();
      return;
    }
    socket.ping();
  }

  private closed(socket: WebSocket, code: number, reason: string): void {
    if (this.socket !== undefined && socket !== this.socket) return;
    clearInterval(this.livenessTimer);
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
    this.reconnectTimer = setTimeout(() => this.dial(), delay);
  }

  private finish(err: Error = new ClosedError(`connection to ${this.peer} is closed`)): void {
    clearInterval(this.livenessTimer);
    clearTimeout(this.reconnectTimer);
    this.closing = true;
    this.unregister();
    for (let i = this.queueHead; i < this.queue.length; i++) this.dropMessage(this.returnQueue[i] ?? [], 'connection_closed', err);
    this.queuedBytes = 0;
    this.queue.length = 0;
    this.returnQueue.length = 0;
    this.queueHead = 0;
    this.hooks.status({ type: 'closed', connection: this.name, peer: this.peer });
    this.hooks.gone(this);
  }

  private dropMessage(back: Message['return'], reason: string, err: Error): void {
    this.node.router.drop(reason);
    this.node.failRequest(back, err);
  }
}

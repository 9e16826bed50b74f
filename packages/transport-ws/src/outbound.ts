import type { Clock, Route } from '@tessera/core';
import type { Socket } from 'node:net';
import WebSocket from 'ws';
import { OutboundQueue } from './outbound-queue.js';
import { unrefTimer } from './timer.js';
import { writeFrame } from './write-frame.js';

export interface OutboundOptions {
  maxQueued: number;
  maxQueuedBytes: number;
  highWaterMark: number;
  slowPeerTimeout: number;
  clock: Clock;
}

/**
 * Writes frames to a connection's socket: straight through while the socket
 * keeps up, into a bounded queue while it is down or its buffer is past the
 * high-water mark. A peer that leaves the buffer at or above the mark for
 * longer than `slowPeerTimeout` is reported through `onSlowPeer`.
 */
export class Outbound {
  private socket: WebSocket | undefined;
  private readonly queue: OutboundQueue;
  private paused = false;
  private corked = false;
  private slowTimer: unknown;

  constructor(
    private readonly options: OutboundOptions,
    private readonly onSlowPeer: (socket: WebSocket) => void,
  ) {
    this.queue = new OutboundQueue(options.maxQueued, options.maxQueuedBytes);
  }

  /** Frames waiting for the socket. */
  get queued(): number {
    return this.queue.size;
  }

  /** Writes to `socket` from now on, starting with what waited. */
  attach(socket: WebSocket): void {
    this.socket = socket;
    this.paused = false;
    this.flush();
  }

  /** The socket is gone: frames wait in the queue until the next one. */
  detach(): void {
    this.socket = undefined;
    this.paused = false;
    this.stopSlowWatch();
  }

  /** Sends or queues a frame; false when the queue is full and the frame was not taken. */
  send(frame: Buffer, back: Route): boolean {
    const socket = this.socket;
    if (!this.paused && this.queue.size === 0 && socket !== undefined && socket.readyState === WebSocket.OPEN) {
      this.sendNow(socket, frame);
      return true;
    }
    return this.queue.push(frame, back);
  }

  /** Empties the queue, handing each waiting message's return route to `dropped`. */
  clear(dropped: (back: Route) => void): void {
    this.stopSlowWatch();
    this.queue.clear(dropped);
  }

  private sendNow(socket: WebSocket, frame: Buffer): void {
    if (socket.bufferedAmount >= this.options.highWaterMark) {
      // back-pressure: let this one go, hold the next ones until the socket has written it out
      this.paused = true;
      this.startSlowWatch(socket);
      writeFrame(socket, frame, () => {
        if (socket !== this.socket) return;
        if (socket.bufferedAmount < this.options.highWaterMark) this.stopSlowWatch();
        this.paused = false;
        this.flush();
      });
      return;
    }
    this.cork(socket);
    writeFrame(socket, frame);
  }

  /**
   * Holds the socket's writes until the event loop has run the callbacks of
   * this turn's I/O (setImmediate), so a burst of messages, and the replies to
   * several requests answered in one turn, leave in one writev instead of a
   * syscall each.
   */
  private cork(socket: WebSocket): void {
    if (this.corked) return;
    const raw = (socket as unknown as { _socket?: Socket })._socket;
    if (raw === undefined) return;
    this.corked = true;
    raw.cork();
    setImmediate(() => {
      this.corked = false;
      raw.uncork();
    });
  }

  private flush(): void {
    const socket = this.socket;
    while (!this.paused && socket !== undefined && socket.readyState === WebSocket.OPEN) {
      const frame = this.queue.shift();
      if (frame === undefined) return;
      this.sendNow(socket, frame);
    }
  }

  /** The buffer just reached the mark: the peer has `slowPeerTimeout` to read below it. */
  private startSlowWatch(socket: WebSocket): void {
    if (this.slowTimer !== undefined) return;
    this.slowTimer = this.options.clock.setTimeout(() => {
      this.slowTimer = undefined;
      if (socket !== this.socket || socket.readyState !== WebSocket.OPEN) return;
      if (socket.bufferedAmount >= this.options.highWaterMark) this.onSlowPeer(socket);
    }, this.options.slowPeerTimeout);
    unrefTimer(this.slowTimer);
  }

  private stopSlowWatch(): void {
    if (this.slowTimer === undefined) return;
    this.options.clock.clearTimeout(this.slowTimer);
    this.slowTimer = undefined;
  }
}

import type { Clock } from '@tessera/core';
import WebSocket from 'ws';
import { unrefTimer } from './timer.js';

/**
 * Pings a socket every `interval` and reports it through `onSilent` once
 * nothing (a message, a ping, a pong) has come from the peer for longer than
 * `timeout`. Time comes from the clock, so tests run it on a fake one.
 */
export class Liveness {
  /** When the peer was last heard from, on the clock. */
  lastSeen = 0;
  private timer: unknown;
  private socket: WebSocket | undefined;

  constructor(
    private readonly clock: Clock,
    private readonly timeout: number,
    private readonly interval: number,
    private readonly onSilent: (socket: WebSocket) => void,
  ) {}

  /** Watches `socket` from now on. */
  start(socket: WebSocket): void {
    this.stop();
    this.socket = socket;
    this.lastSeen = this.clock.now();
    socket.on('pong', this.seen);
    socket.on('ping', this.seen);
    this.schedule();
  }

  /** Something came from the peer. */
  readonly seen = (): void => {
    this.lastSeen = this.clock.now();
  };

  stop(): void {
    this.clock.clearTimeout(this.timer);
    this.timer = undefined;
    this.socket?.off('pong', this.seen);
    this.socket?.off('ping', this.seen);
    this.socket = undefined;
  }

  private schedule(): void {
    this.timer = this.clock.setTimeout(this.check, this.interval);
    unrefTimer(this.timer);
  }

  private readonly check = (): void => {
    const socket = this.socket;
    if (socket === undefined || socket.readyState !== WebSocket.OPEN) return;
    if (this.clock.now() - this.lastSeen > this.timeout) {
      this.stop();
      this.onSilent(socket);
      return;
    }
    socket.ping();
    this.schedule();
  };
}

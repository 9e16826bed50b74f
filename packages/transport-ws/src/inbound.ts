import { type Address, describeError, type LocalInfo, type Node } from '@tessera/core';
import type WebSocket from 'ws';
import { CloseCode } from './close-code.js';
import { decodeFrame } from './frame.js';

export interface InboundOptions {
  badFrameLimit: number;
  maxRouteLength: number;
}

/**
 * What a connection does with a WebSocket message from its peer
 * (docs/protocol.md §3): decode it, prepend the connection's address to its
 * return route and route it on the node. Text, undecodable or over-long
 * frames are dropped and counted, and too many of them close the connection.
 */
export class Inbound {
  private badFrames = 0;

  constructor(
    private readonly node: Node,
    /** The connection's LOCAL address, which leads back to the peer. */
    private readonly via: Address,
    private readonly localInfo: LocalInfo,
    private readonly options: InboundOptions,
  ) {}

  /** A new socket starts with a clean record. */
  reset(): void {
    this.badFrames = 0;
  }

  receive(socket: WebSocket, data: Buffer, isBinary: boolean): void {
    if (!isBinary) {
      this.node.router.drop('text_frame');
      socket.close(CloseCode.unsupportedData, 'binary frames only');
      return;
    }
    let frame;
    try {
      frame = decodeFrame(data, this.via, this.options.maxRouteLength);
    } catch (err) {
      this.node.router.drop('invalid_frame');
      if (++this.badFrames >= this.options.badFrameLimit) {
        socket.close(CloseCode.protocolError, 'too many invalid frames');
      }
      this.node.logger.debug({ connection: this.via.value, err: describeError(err) }, 'invalid frame dropped');
      return;
    }
    if (frame.onward.length === 0) return; // a heartbeat: consumed here, never delivered
    try {
      this.node.route({ onward: frame.onward, return: frame.return, payload: frame.payload, local: this.localInfo });
    } catch (err) {
      // nothing a peer sends may crash the node: count it and go on
      this.node.router.drop('route_failed');
      this.node.logger.warn({ connection: this.via.value, err: describeError(err) }, 'routing a message from a peer failed');
    }
  }
}

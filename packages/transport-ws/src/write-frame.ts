import type WebSocket from 'ws';
import * as wsModule from 'ws';

type WriteCallback = (err?: Error) => void;

const BINARY = { binary: true } as const;
const OPCODE_BINARY = 2;
/** ws's Sender state when it is neither compressing nor reading a Blob: frames go straight to the socket. */
const SENDER_IDLE = 0;

interface FrameOptions {
  fin: boolean;
  opcode: number;
  mask: boolean;
  readOnly: boolean;
  rsv1: boolean;
  maskBuffer: Buffer | undefined;
  generateMask: ((mask: Buffer) => void) | undefined;
}

/** The parts of ws's Sender used here (ws 8: lib/sender.js). */
interface SenderParts {
  _state: number;
  _maskBuffer?: Buffer;
  _generateMask?: (mask: Buffer) => void;
  sendFrame(list: Buffer[], cb?: WriteCallback): void;
}

/** The parts of a ws WebSocket used here (ws 8: lib/websocket.js). */
interface SocketParts {
  _isServer?: boolean;
  _sender?: SenderParts | null;
}

/**
 * From this size on ws's own copy of a masked message (data and a header of up
 * to 14 bytes) no longer comes from Node's buffer pool but is an allocation of
 * its own; below it the copy is cheap and leaves as one write instead of two.
 */
const IN_PLACE_FROM = (Buffer.poolSize >>> 1) - 14;

// ws's ESM entry exports Sender by name (its type declarations leave it out)
const frameOf = (wsModule as unknown as { Sender?: { frame?: unknown } }).Sender?.frame;
const frame = typeof frameOf === 'function' ? (frameOf as (data: Buffer, options: FrameOptions) => Buffer[]) : undefined;

/**
 * Writes `data` as one binary WebSocket message on an open socket, as
 * `socket.send(data, { binary: true }, cb)` would, but lets ws mask the bytes
 * in place: `data` must be a buffer no one else holds or reads again (a fresh
 * frame from encodeFrame). `send` takes every Buffer as read-only, so a client
 * (which masks) copies each message into a new buffer of its own, at 4 KiB one
 * allocation outside Node's pool per message (smaller messages, which ws
 * copies into pooled memory, are left to `send`). The WebSocket frame is made by
 * ws's own `Sender.frame` with the socket's own mask source, so the bytes on
 * the wire are what `send` would write. Where ws's internals are not as
 * expected, or its sender is busy (compressing, which this transport never
 * negotiates), this is `send`.
 */
export function writeFrame(socket: WebSocket, data: Buffer, cb?: WriteCallback): void {
  const parts = socket as unknown as SocketParts;
  const sender = parts._sender;
  if (data.length < IN_PLACE_FROM || frame === undefined || sender == null || sender._state !== SENDER_IDLE || typeof sender.sendFrame !== 'function' || typeof parts._isServer !== 'boolean') {
    socket.send(data, BINARY, cb);
    return;
  }
  const list = frame(data, {
    fin: true,
    opcode: OPCODE_BINARY,
    mask: !parts._isServer,
    readOnly: false,
    rsv1: false,
    maskBuffer: sender._maskBuffer,
    generateMask: sender._generateMask,
  });
  sender.sendFrame(list, cb);
}

import WebSocket from 'ws';
import type { ResolvedWsTransportOptions } from './options.js';
import { CloseCode } from './close-code.js';
import { SUBPROTOCOL } from './options.js';

export interface DialHandlers {
  /** The socket is open and the peer agreed to tessera.v1. */
  opened(socket: WebSocket): void;
  /** The socket never opened, or the peer spoke another subprotocol. */
  failed(socket: WebSocket, code: number, reason: string): void;
  error(err: Error): void;
}

/** Opens a WebSocket to `url` offering tessera.v1, within the connect timeout. */
export function dial(url: string, options: ResolvedWsTransportOptions, handlers: DialHandlers): WebSocket {
  const tls = options.clientTls;
  const socket = new WebSocket(url, SUBPROTOCOL, {
    maxPayload: options.maxMessageSize,
    perMessageDeflate: false,
    handshakeTimeout: options.connectTimeout,
    ...(tls === undefined ? {} : { ca: tls.ca, rejectUnauthorized: tls.rejectUnauthorized }),
  });
  socket.on('error', (err) => handlers.error(err));
  const failed = () => handlers.failed(socket, 1006, 'connection failed');
  socket.once('close', failed);
  socket.once('open', () => {
    socket.off('close', failed);
    if (socket.protocol !== SUBPROTOCOL) {
      socket.close(CloseCode.protocolError, 'subprotocol tessera.v1 required');
      handlers.failed(socket, CloseCode.protocolError, 'peer did not agree to tessera.v1');
      return;
    }
    handlers.opened(socket);
  });
  return socket;
}

import { createServer as createHttpServer, type IncomingMessage, type Server } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { Duplex } from 'node:stream';
import { type Clock, describeError, type Logger } from '@tessera/core';
import WebSocket, { WebSocketServer } from 'ws';
import { ListenerLimits, type ListenerStats } from './listener-limits.js';
import { type ListenOptions, ListenOptionsSchema, SUBPROTOCOL } from './options.js';

/**
 * Connections the kernel may hold for the listener to accept (listen(2); Linux caps it at
 * net.core.somaxconn, 4,096 by default). Node's default, 511, drops the SYNs of a larger
 * burst, and a client whose SYN was dropped tries again only after 1 s, then 3 s: with
 * room in the queue the listener accepts the burst and refuses what is past its caps at
 * once (the reliability suite's hostile-peers storm: no listen overflows, refusals twice
 * as fast).
 */
const LISTEN_BACKLOG = 65_535;

/** A listening WebSocket endpoint. */
export interface WsListener {
  readonly host: string;
  readonly port: number;
  /** ws://host:port or wss://host:port */
  readonly url: string;
  /** Connections open and in progress, and what was turned away. */
  stats(): ListenerStats;
  /** Stops accepting connections (open ones stay). */
  close(): Promise<void>;
}

export interface ListenerContext {
  maxMessageSize: number;
  logger: Logger;
  clock: Clock;
}

/**
 * Starts an HTTP(S) server that upgrades only requests offering the
 * `tessera.v1` subprotocol (others get HTTP 400) and passing the hook's test
 * (401), while fewer than `maxConnections` are in use (503).
 */
export async function startListener(
  input: ListenOptions,
  { maxMessageSize, logger, clock }: ListenerContext,
  accept: (socket: WebSocket, request: IncomingMessage) => void,
): Promise<WsListener> {
  const options = ListenOptionsSchema.parse(input);
  const server: Server =
    options.tls === undefined
      ? createHttpServer()
      : createHttpsServer({ ...options.tls, handshakeTimeout: options.handshakeTimeout });
  const limits = new ListenerLimits(options.maxConnections, options.handshakeTimeout, clock);
  limits.guard(server, options.tls !== undefined);
  const wss = new WebSocketServer({
    noServer: true,
    maxPayload: maxMessageSize,
    perMessageDeflate: false,
    clientTracking: false,
    handleProtocols: () => SUBPROTOCOL,
  });
  server.on('request', (_req, res) => {
    res.writeHead(426, { 'content-type': 'text/plain', upgrade: 'websocket' }).end('WebSocket (tessera.v1) only\n');
  });
  server.on('upgrade', (request: IncomingMessage, socket: Duplex, head: Buffer) => {
    socket.on('error', () => socket.destroy());
    if (!limits.admit(socket)) {
      refuse(socket, 503, 'Service Unavailable', 'too many connections\n');
      return;
    }
    void upgrade(request, socket, head).catch((err: unknown) => {
      logger.warn({ err: describeError(err) }, 'upgrade failed');
      refuse(socket, 500, 'Internal Server Error');
    });
  });
  async function upgrade(request: IncomingMessage, socket: Duplex, head: Buffer): Promise<void> {
    if (!offersSubprotocol(request)) {
      refuse(socket, 400, 'Bad Request', `subprotocol ${SUBPROTOCOL} required\n`);
      return;
    }
    if (options.authenticate !== undefined && !(await options.authenticate(request))) {
      refuse(socket, 401, 'Unauthorized');
      return;
    }
    wss.handleUpgrade(request, socket, head, (ws) => {
      limits.upgraded(socket);
      accept(ws, request);
    });
  }
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen({ port: options.port, host: options.host, backlog: LISTEN_BACKLOG }, () => {
      server.off('error', reject);
      resolve();
    });
  });
  server.on('error', (err) => logger.error({ err: describeError(err) }, 'listener error'));
  const bound = server.address();
  const port = typeof bound === 'object' && bound !== null ? bound.port : options.port;
  const scheme = options.tls === undefined ? 'ws' : 'wss';
  const hostInUrl = options.host.includes(':') ? `[${options.host}]` : options.host;
  let closing: Promise<void> | undefined;
  return {
    host: options.host,
    port,
    url: `${scheme}://${hostInUrl}:${port}`,
    stats: () => limits.stats(),
    close: () =>
      (closing ??= new Promise<void>((resolve) => {
        // stops accepting at once; upgraded sockets still open belong to their connections,
        // which the transport closes itself, so do not wait for them here
        wss.close();
        server.close();
        server.closeIdleConnections();
        setImmediate(resolve);
      })),
  };
}

function offersSubprotocol(request: IncomingMessage): boolean {
  const header = request.headers['sec-websocket-protocol'];
  if (header === undefined) return false;
  return header.split(',').some((p) => p.trim() === SUBPROTOCOL);
}

function refuse(socket: Duplex, status: number, text: string, body = ''): void {
  if (socket.writable) {
    socket.write(
      `HTTP/1.1 ${status} ${text}\r\nConnection: close\r\nContent-Type: text/plain\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
    );
  }
  socket.destroy();
}

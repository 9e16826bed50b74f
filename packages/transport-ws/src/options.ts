import type { IncomingMessage } from 'node:http';
import { type Clock, InvalidAddressError, systemClock } from '@tessera/core';
import { z } from 'zod';

export const SUBPROTOCOL = 'tessera.v1';

const ReconnectSchema = z.object({
  /** First delay in ms. */
  initialDelay: z.number().int().positive().default(100),
  /** Largest delay in ms. */
  maxDelay: z.number().int().positive().default(30_000),
  factor: z.number().min(1).default(2),
  /** Fraction of the delay added or taken at random (0.2 = ±20 %). */
  jitter: z.number().min(0).max(1).default(0.2),
  /** Attempts before the connection is closed for good; unset = no limit. */
  maxAttempts: z.number().int().positive().optional(),
});

export const WsTransportOptionsSchema = z.object({
  /** Largest message accepted, in bytes (1 MiB); larger → close 1009. */
  maxMessageSize: z.number().int().positive().default(1 << 20),
  /** Undecodable messages tolerated on one connection before it is closed with 1002. */
  badFrameLimit: z.number().int().positive().default(16),
  /** A peer silent for longer than this (ms) is closed. */
  livenessTimeout: z.number().int().positive().default(30_000),
  /** How often to ping (ms); default a third of livenessTimeout. */
  pingInterval: z.number().int().positive().optional(),
  /** Messages held per connection while it is down or backed up; beyond → QueueFullError. */
  maxQueued: z.number().int().positive().default(10_000),
  /** Bytes held per connection while it is down or backed up; beyond → QueueFullError. */
  maxQueuedBytes: z.number().int().positive().default(16 << 20),
  /** Bytes the socket may buffer before messages wait in the connection's queue instead. */
  highWaterMark: z.number().int().positive().default(4 << 20),
  /**
   * A peer that leaves the socket's buffer at or above `highWaterMark` for
   * longer than this (ms) is not reading: its connection is terminated.
   */
  slowPeerTimeout: z.number().int().positive().default(30_000),
  /** Addresses at most in a received frame's onward, and in its return route; longer → an invalid frame. */
  maxRouteLength: z.number().int().positive().max(1_024).default(32),
  /**
   * Whether a message that arrived from a peer may be sent on to a WS address
   * (a hop through this node, A → B → C). Off for a hub: otherwise anyone who
   * reaches it can make it dial any address.
   */
  forwarding: z.boolean().default(true),
  /** Outgoing connections at most; a message for one more is dropped. */
  maxOutgoing: z.number().int().positive().default(1_024),
  /** Milliseconds an outgoing connection may take to open. */
  connectTimeout: z.number().int().positive().default(10_000),
  reconnect: ReconnectSchema.default(ReconnectSchema.parse({})),
  /** Time for liveness, reconnects, slow peers and handshake timeouts (tests pass a fake one). */
  clock: z.custom<Clock>(isClock, 'clock must have now, setTimeout and clearTimeout').default(systemClock),
  /** For wss:// peers: extra CA certificates, or false to accept any certificate (development only). */
  clientTls: z
    .object({ ca: z.union([z.string(), z.instanceof(Buffer)]).optional(), rejectUnauthorized: z.boolean().default(true) })
    .optional(),
});
export type WsTransportOptions = z.input<typeof WsTransportOptionsSchema>;
export type ResolvedWsTransportOptions = z.output<typeof WsTransportOptionsSchema>;

/** Decides at the HTTP upgrade whether a peer may connect (reserved for authentication). */
export type UpgradeHook = (request: IncomingMessage) => boolean | Promise<boolean>;

export const ListenOptionsSchema = z.object({
  host: z.string().default('127.0.0.1'),
  /** 0 picks a free port. */
  port: z.number().int().min(0).max(65_535).default(0),
  /** Serve wss:// with this certificate and key (PEM). */
  tls: z
    .object({ cert: z.union([z.string(), z.instanceof(Buffer)]), key: z.union([z.string(), z.instanceof(Buffer)]) })
    .optional(),
  authenticate: z.custom<UpgradeHook>((v) => typeof v === 'function').optional(),
  /**
   * WebSocket connections at most, counting upgrades still in progress;
   * beyond it an upgrade is refused with HTTP 503. Raw TCP sockets are capped
   * a little above it (SOCKET_HEADROOM), so half-open sockets cannot take
   * every file descriptor.
   */
  maxConnections: z.number().int().positive().default(4_096),
  /**
   * Milliseconds a TCP connection has to finish its upgrade (and, for wss://,
   * its TLS handshake, which has the same time again) before it is destroyed.
   */
  handshakeTimeout: z.number().int().positive().default(10_000),
});
export type ListenOptions = z.input<typeof ListenOptionsSchema>;
export type ResolvedListenOptions = z.output<typeof ListenOptionsSchema>;

/** Raw TCP sockets a listener takes beyond `maxConnections`: room to answer 503, not to exhaust descriptors. */
export const SOCKET_HEADROOM = 64;

function isClock(v: unknown): v is Clock {
  const c = v as Partial<Clock> | null;
  return typeof c === 'object' && c !== null && typeof c.now === 'function' && typeof c.setTimeout === 'function' && typeof c.clearTimeout === 'function';
}

/**
 * `host:port` → `ws://host:port`; a ws:// or wss:// URL stays as it is.
 * Throws InvalidAddressError for anything that is not a ws:// or wss:// URL with a host.
 */
export function targetUrl(value: string): string {
  const url = /^wss?:\/\//i.test(value) ? value : `ws://${value}`;
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new InvalidAddressError(`not a WebSocket address: ${JSON.stringify(value.slice(0, 200))}`);
  }
  if ((parsed.protocol !== 'ws:' && parsed.protocol !== 'wss:') || parsed.hostname === '') {
    throw new InvalidAddressError(`not a WebSocket address: ${JSON.stringify(value.slice(0, 200))}`);
  }
  return url;
}

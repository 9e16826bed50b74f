import { createServer, type Server } from 'node:http';
import type { Authority } from '@tessera/authority';
import type { Node } from '@tessera/core';
import type { RelayService } from '@tessera/relay';
import type { SecureChannelListener } from '@tessera/secure-channel';
import type { StrangerGuard } from './stranger-guard.js';
import type { LeaseService } from '@tessera/token-lease';
import type { WebSocketTransport } from '@tessera/transport-ws';
import { Counter, Gauge, Registry, collectDefaultMetrics } from 'prom-client';
import type { HubConfig } from './hub-config.js';

/** A Prometheus registry for a hub: leases created and revoked, revocation failures, expiry lateness, drops, peers, secure channels, refused enrollments, relays. */
export function hubMetrics(
  service: LeaseService,
  node: Node,
  transport: Pick<WebSocketTransport, 'stats'>,
  secure?: {
    channels: SecureChannelListener;
    strangers: Pick<StrangerGuard, 'stats'>;
    authority: Pick<Authority, 'enrollRefusals'>;
    relays: Pick<RelayService, 'stats'>;
  },
): Registry {
  const channels = secure?.channels;
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'tessera_' });
  const counter = (name: string, help: string, read: () => number) =>
    new Counter({
      name,
      help,
      registers: [registry],
      collect() {
        this.reset();
        this.inc(read());
      },
    });
  counter('tessera_leases_created_total', 'Leases created', () => service.stats().created);
  counter('tessera_leases_revoked_total', 'Leases revoked (expired or requested)', () => service.stats().revoked);
  counter('tessera_revocation_failures_total', 'Failed revocation attempts (each is retried)', () => service.stats().revocationFailures);
  counter('tessera_orphans_revoked_total', 'Cloud tokens without a lease, revoked', () => service.stats().orphansRevoked);
  counter('tessera_reconciliations_total', 'Sweeps of the cloud for orphan tokens that ended', () => service.stats().reconciliations);
  new Gauge({
    name: 'tessera_expiry_lateness_ms',
    help: 'Expiry to revocation, recent leases, by quantile',
    labelNames: ['quantile'],
    registers: [registry],
    collect() {
      const l = service.stats().lateness;
      this.set({ quantile: '0.5' }, l.p50);
      this.set({ quantile: '0.99' }, l.p99);
      this.set({ quantile: '1' }, l.max);
    },
  });
  new Gauge({
    name: 'tessera_messages_dropped',
    help: 'Messages dropped by the node, by reason',
    labelNames: ['reason'],
    registers: [registry],
    collect() {
      for (const [reason, n] of Object.entries(node.stats().dropped)) this.set({ reason }, n);
    },
  });
  new Gauge({
    name: 'tessera_ws_connections',
    help: 'Open WebSocket connections, by direction',
    labelNames: ['direction'],
    registers: [registry],
    collect() {
      const t = transport.stats();
      this.set({ direction: 'incoming' }, t.incoming);
      this.set({ direction: 'outgoing' }, t.outgoing);
    },
  });
  new Gauge({
    name: 'tessera_ws_peers_refused',
    help: 'Peers refused or dropped by the listener limits, by reason (counts since start)',
    labelNames: ['reason'],
    registers: [registry],
    collect() {
      const t = transport.stats();
      this.set({ reason: 'max_connections' }, t.refusedUpgrades);
      this.set({ reason: 'socket_cap' }, t.refusedSockets);
      this.set({ reason: 'handshake_timeout' }, t.handshakeTimeouts);
      this.set({ reason: 'slow_peer' }, t.slowPeers);
    },
  });
  new Gauge({
    name: 'tessera_insecure',
    help: '1 when the hub runs with --insecure (anonymous callers, no secure channels), else 0',
    registers: [registry],
    collect() {
      this.set(channels === undefined ? 1 : 0);
    },
  });
  if (secure !== undefined) {
    new Gauge({
      name: 'tessera_stranger_channels',
      help: 'Secure channels of identities that are not members yet (each ends after its grace unless it enrolls), and counts since start: refused (a budget of 0), evicted (the oldest, for a newer one over the budget), ended at the grace, enrolled in time',
      labelNames: ['state'],
      registers: [registry],
      collect() {
        const s = secure.strangers.stats();
        this.set({ state: 'open' }, s.strangers);
        this.set({ state: 'refused' }, s.refused);
        this.set({ state: 'evicted' }, s.evicted);
        this.set({ state: 'expired' }, s.expired);
        this.set({ state: 'enrolled' }, s.enrolled);
      },
    });
    new Counter({
      name: 'tessera_enroll_refused_total',
      help: 'Enrollments refused, by reason (the answer never says which; the log names the first of each reason and sums up the rest once a minute)',
      labelNames: ['reason'],
      registers: [registry],
      collect() {
        this.reset();
        for (const [reason, n] of Object.entries(secure.authority.enrollRefusals())) this.inc({ reason }, n);
      },
    });
  }
  if (secure !== undefined) relayMetrics(registry, secure.relays);
  if (channels !== undefined) {
    new Gauge({
      name: 'tessera_secure_channels',
      help: 'Secure channels open, and handshakes under way',
      labelNames: ['state'],
      registers: [registry],
      collect() {
        const s = channels.stats();
        this.set({ state: 'open' }, s.channels);
        this.set({ state: 'handshake' }, s.handshakes);
      },
    });
    new Gauge({
      name: 'tessera_secure_channel_drops',
      help: 'Secure-channel messages and handshakes dropped, by reason (counts since start)',
      labelNames: ['reason'],
      registers: [registry],
      collect() {
        for (const [reason, n] of Object.entries(channels.stats().dropped)) this.set({ reason }, n);
      },
    });
  }
  return registry;
}

/** The relay service's figures (packages/relay): relays held, registrations and their refusals, messages forwarded and dropped. */
function relayMetrics(registry: Registry, relays: Pick<RelayService, 'stats'>): void {
  new Gauge({
    name: 'tessera_relays',
    help: 'Relay names registered (bound to an identity), of those attached to a device connection, and creates waiting for their attach',
    labelNames: ['state'],
    registers: [registry],
    collect() {
      const s = relays.stats();
      this.set({ state: 'registered' }, s.relays);
      this.set({ state: 'attached' }, s.attached);
      this.set({ state: 'pending' }, s.pendingTickets);
    },
  });
  new Counter({
    name: 'tessera_relay_registrations_total',
    help: 'Relay attaches that made a device connection a relay route (first registrations and re-registrations)',
    registers: [registry],
    collect() {
      this.reset();
      this.inc(relays.stats().registrations);
    },
  });
  new Counter({
    name: 'tessera_relay_messages_forwarded_total',
    help: 'Messages relays sent on, by direction: to_device, and from_device (a device answering its callers)',
    labelNames: ['direction'],
    registers: [registry],
    collect() {
      this.reset();
      for (const [direction, n] of Object.entries(relays.stats().forwarded)) this.inc({ direction }, n);
    },
  });
  new Gauge({
    name: 'tessera_relay_messages_dropped',
    help: 'Messages for forward_to_<name> dropped, by reason (counts since start): unknown_address, access_denied, mailbox_full, relay_detached, relay_refused, relay_over_share',
    labelNames: ['reason'],
    registers: [registry],
    collect() {
      for (const [reason, n] of Object.entries(relays.stats().dropped)) this.set({ reason }, n);
    },
  });
  new Gauge({
    name: 'tessera_relay_registrations_refused',
    help: 'Relay create and attach requests refused, by failure code (counts since start)',
    labelNames: ['code'],
    registers: [registry],
    collect() {
      for (const [code, n] of Object.entries(relays.stats().refused)) this.set({ code }, n);
    },
  });
}

/** The warning of a secure hub whose members live in its memory only (`--storage memory`, no snapshot). */
export const MEMBERS_IN_MEMORY_WARNING = 'members are kept in memory only: a restart forgets every member';

/**
 * What a hub's configuration alone warns about, at start (hub-command) and in
 * /health (hubHealth's `warnings`): a secure hub on `--storage memory` keeps
 * its members nowhere else, and their bootstrap tokens are spent.
 */
export function configWarnings(config: Pick<HubConfig, 'storage' | 'insecure'>): string[] {
  return !config.insecure && config.storage === 'memory' ? [MEMBERS_IN_MEMORY_WARNING] : [];
}

/** How a hub is secured, for /health: a secure hub's identity and what its configuration warns about (configWarnings). */
export type HubSecurity = { insecure: true } | { insecure: false; identity: string; warnings?: readonly string[] };

/** What GET /health says besides `status`: whether the hub is insecure, its identity, lease counters, the deployment, and what the storage keeps across a restart, with a warning when nothing. */
export function hubHealth(service: LeaseService, deployment: string, security: HubSecurity): object {
  const durability = service.storage.durability?.();
  const warnings = healthWarnings(service, security);
  return {
    ...(security.insecure ? { insecure: true } : { insecure: false, identity: security.identity }),
    leases: service.stats(),
    deployment,
    storage: { name: service.storage.name, ...(durability === undefined ? {} : { persists: durability.persists ?? 'unknown', persistence: durability.detail }) },
    ...(warnings.length > 0 ? { warnings } : {}),
  };
}

/** What a hub warns about in /health and in the operator's view: an insecure hub, its configuration's warnings, a storage that persists nothing. */
export function healthWarnings(service: Pick<LeaseService, 'storage'>, security: HubSecurity): string[] {
  const durability = service.storage.durability?.();
  const warnings: string[] = [];
  if (security.insecure) warnings.push('insecure: anonymous callers share one owner and see every lease; for development only');
  else warnings.push(...(security.warnings ?? []));
  if (durability?.persists === false) {
    warnings.push(`storage ${service.storage.name} persists nothing (${durability.detail}): a restart of it loses every lease; see docs/operations.md`);
  }
  return warnings;
}

/** Bounds of the metrics server: it is a listener too, so it must not hold sockets without limit. */
export interface MetricsServerLimits {
  /** Sockets at once; one more is closed at once (default 64). */
  maxConnections?: number;
  /** Milliseconds a socket may stay silent (no request, or one sent a byte at a time) before it is destroyed (default 10,000). */
  idleTimeout?: number;
}

/** Serves GET /health (JSON) and GET /metrics (Prometheus text). */
export async function startMetricsServer(
  host: string,
  port: number,
  registry: Registry,
  health: () => object,
  limits: MetricsServerLimits = {},
): Promise<Server> {
  const server = createServer((req, res) => {
    if (req.method === 'GET' && req.url === '/metrics') {
      registry.metrics().then(
        (text) => res.writeHead(200, { 'content-type': registry.contentType }).end(text),
        () => res.writeHead(500).end(),
      );
      return;
    }
    if (req.method === 'GET' && req.url === '/health') {
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ status: 'ok', ...health() }));
      return;
    }
    res.writeHead(404, { 'content-type': 'text/plain' }).end('not found: try /health or /metrics\n');
  });
  // Node's own headersTimeout never closes a socket that sends nothing: without these, idle
  // connections to this port could take every file descriptor the hub has
  server.maxConnections = limits.maxConnections ?? 64;
  server.setTimeout(limits.idleTimeout ?? 10_000); // no 'timeout' listener: the socket is destroyed
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
  return server;
}

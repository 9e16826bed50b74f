import type { Server } from 'node:http';
import { type Clock, echoWorker, type Logger, Node } from '@tessera/core';
import type { InfluxdbLocal } from '@tessera/influxdb-local';
import { Authority } from '@tessera/authority';
import { RelayService } from '@tessera/relay';
import type { SecureChannelListener } from '@tessera/secure-channel';
import { LeaseService, TokenLeaseWorker, type TokenLeaseWorkerOptions } from '@tessera/token-lease';
import { WebSocketTransport, type WsListener } from '@tessera/transport-ws';
import { parseListen } from '../listen-address.js';
import { hubDeployment } from './deployment.js';
import { type HubChannelLimits, startHubChannels } from './hub-channels.js';
import { defaultHubIdentityPath, hubIdentity } from './hub-identity.js';
import { memberStoreFromConfig } from './member-store.js';
import type { HubConfig } from './hub-config.js';
import { leasePolicyFromConfig } from './lease-policy.js';
import { configWarnings, hubHealth, hubMetrics, startMetricsServer } from './metrics.js';
import { LastSeen, notingSenders } from './operator-view/last-seen.js';
import { type OperatorView, startOperatorView } from './operator-view/start-operator-view.js';
import { cloudFromConfig, storageFromConfig } from './modules.js';
import type { StrangerGuard } from './stranger-guard.js';

/** Bytes a peer's socket may buffer before replies wait in its queue, and bytes that queue may hold (256 KiB, 1 MiB). */
const HUB_HIGH_WATER_MARK = 256 << 10;
const HUB_MAX_QUEUED_BYTES = 1 << 20;

export interface Hub {
  node: Node;
  service: LeaseService;
  listener: WsListener;
  /** The in-process InfluxDB, when none was named. */
  influx?: InfluxdbLocal;
  /** Whose tokens this hub makes and sweeps (`--deployment`, or derived from the storage). */
  deployment: string;
  /** A secure hub's identity, authority, secure-channel listener, relay service and operator view (none with --insecure). */
  secure?: {
    identifier: string;
    identityPath: string;
    authority: Authority;
    channels: SecureChannelListener;
    strangers: StrangerGuard;
    relays: RelayService;
    /** The `hub_events` worker's subscriptions and feed (docs/protocol.md §8). */
    operatorView: OperatorView;
  };
  metricsUrl?: string;
  stop(): Promise<void>;
}

/** What tests may set that the configuration does not: the node's clock (the authority's too), the channels' bounds. */
export interface HubInternals {
  clock?: Clock;
  channels?: Partial<HubChannelLimits>;
}

/**
 * A hub: a node with a WebSocket listener, the echo worker, and the
 * token_lease worker over the configured cloud and storage.
 */
export async function startHub(config: HubConfig, logger: Logger, env: NodeJS.ProcessEnv = process.env, internals: HubInternals = {}): Promise<Hub> {
  const deployment = hubDeployment(config);
  logger.info(
    { deployment: deployment.name, derived: deployment.derived, adoptLegacyTokens: config.adoptLegacyTokens },
    deployment.derived ? 'deployment derived from the storage (set --deployment to name it)' : 'deployment',
  );
  const { cloud, local } = await cloudFromConfig(config, env, deployment.name);
  const storage = storageFromConfig(config, logger.child({ component: 'storage' }), env);
  const leasePolicy = leasePolicyFromConfig(config);
  const closers: (() => Promise<void>)[] = [];
  const service = new LeaseService({
    decisions: leasePolicy.decisions,
    quotas: leasePolicy.quotas,
    cloud,
    storage,
    policy: leasePolicy.ttl,
    logger: logger.child({ component: 'token_lease' }),
    orphanGrace: config.orphanGrace,
    reconcileEvery: config.reconcileEvery,
  });
  await service.start();
  const node = new Node({ name: 'hub', logger, ...(internals.clock ? { clock: internals.clock } : {}) });
  // a hub answers small JSON: what one peer can make it hold (a message on its way in, replies it does not read) stays small
  const transport = new WebSocketTransport(node, {
    forwarding: config.forward,
    slowPeerTimeout: config.slowPeerTimeout,
    livenessTimeout: config.livenessTimeout,
    maxMessageSize: config.maxMessageSize,
    highWaterMark: HUB_HIGH_WATER_MARK,
    maxQueuedBytes: HUB_MAX_QUEUED_BYTES,
  });
  await node.startWorker('echo', echoWorker);
  let secure: Hub['secure'];
  let access: TokenLeaseWorkerOptions;
  // who sent a request through a channel, and when (the operator's view shows members' last sight)
  const lastSeen = new LastSeen(node.clock);
  if (config.insecure) {
    access = { owners: 'anonymous', admins: ['anonymous'] };
  } else {
    const identityPath = config.identity ?? defaultHubIdentityPath(env);
    const identity = await hubIdentity(identityPath);
    const members = memberStoreFromConfig(config, { cloudService: cloud.name, cloudServiceAddress: cloud.getAddress() }, logger.child({ component: 'members' }), env);
    await members.init();
    const authority = new Authority({
      store: members,
      identity,
      admins: config.admin,
      credentialTtl: config.credentialTtl,
      clock: node.clock,
      logger: logger.child({ component: 'authority' }),
    });
    // a member removed: its channels close and its leases end now, not at their expiry (its requests are refused from
    // now on: membership is checked on each)
    authority.on('removed', (identifier) => {
      for (const channel of secure?.channels.channels() ?? []) if (channel.identifier === identifier) channel.close();
      service.revokeAllOf(identifier).then(
        (n) => logger.info({ identifier, revoked: n }, 'member removed: its leases revoked'),
        (err: unknown) => logger.warn({ identifier, err: err instanceof Error ? err.message : String(err) }, 'member removed: revoking its leases failed; they end at their expiry'),
      );
    });
    await node.startWorker('authority', notingSenders(authority, lastSeen));
    // Anyone who proves an identity may open a channel (a device must, to enroll), within the strangers' budget;
    // what it may do is the workers' decision, by live membership: the lease worker and the authority refuse non-members.
    const { listener: channels, strangers } = await startHubChannels(node, { identity, authority, limits: internals.channels ?? {} });
    // relays (docs: packages/relay): members register a name; forward_to_<name> relays to their connection, each
    // sender within its share of a connection that backs up (the transport says how far behind one is: queuedFor)
    const relays = new RelayService({
      membership: (identifier) => authority.membership(identifier),
      // a relay name only for a member whose `relay` attribute allows it: otherwise any member could take a device's name first
      requireAttribute: true,
    });
    await node.startWorker('relay', relays);
    // a removal handled here ends the member's relays now; one handled by another hub on the same storage, at this
    // hub's next membership check (RelayService membershipCheckInterval, 1 min)
    authority.on('removed', (identifier) => void relays.removeAllOf(identifier));
    access = { membership: (identifier) => authority.membership(identifier), admins: config.admin };
    const operatorView = await startOperatorView(node, {
      service,
      authority,
      members,
      channels,
      decisions: leasePolicy.decisions,
      lastSeen,
      security: { insecure: false, identity: identity.identifier, warnings: configWarnings(config) },
    });
    secure = { identifier: identity.identifier, identityPath, authority, channels, strangers, relays, operatorView };
    authority.on('enrolled', ({ identifier }) => strangers.admitted(identifier));
    closers.push(() => members.close());
  }
  await node.startWorker(config.address, notingSenders(new TokenLeaseWorker(service, { ...leasePolicy.worker, ...access }), lastSeen));
  const { host, port } = parseListen(config.listen);
  const listener = await transport.listen({ host, port, maxConnections: config.maxConnections, handshakeTimeout: config.handshakeTimeout });
  let metricsServer: Server | undefined;
  let metricsUrl: string | undefined;
  if (config.metrics !== undefined) {
    const m = parseListen(config.metrics);
    const warnings = configWarnings(config);
    metricsServer = await startMetricsServer(m.host, m.port, hubMetrics(service, node, transport, secure), () =>
      hubHealth(service, deployment.name, secure === undefined ? { insecure: true } : { insecure: false, identity: secure.identifier, warnings }),
    );
    const bound = metricsServer.address();
    metricsUrl = `http://${m.host}:${typeof bound === 'object' && bound !== null ? bound.port : m.port}`;
  }
  // orphans: swept in the background, the hub serves meanwhile
  service.reconcile().then(
    (n) => n > 0 && logger.info({ revoked: n }, 'orphan tokens revoked at start'),
    (err: unknown) => logger.warn({ err: err instanceof Error ? err.message : String(err) }, 'start-up reconciliation failed'),
  );
  return {
    node,
    service,
    listener,
    deployment: deployment.name,
    ...(secure ? { secure } : {}),
    ...(local ? { influx: local } : {}),
    ...(metricsUrl ? { metricsUrl } : {}),
    async stop() {
      secure?.operatorView.stop();
      await node.stop();
      await service.stop();
      await storage.close();
      for (const close of closers) await close();
      await cloud.close?.();
      await new Promise<void>((resolve) => (metricsServer ? metricsServer.close(() => resolve()) : resolve()));
      await local?.close();
    },
  };
}

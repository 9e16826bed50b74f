import type { Server } from 'node:http';
import { echoWorker, type Logger, Node } from '@tessera/core';
import type { InfluxdbLocal } from '@tessera/influxdb-local';
import { LeaseService, TokenLeaseWorker, ttlPolicy } from '@tessera/token-lease';
import { WebSocketTransport, type WsListener } from '@tessera/transport-ws';
import { parseListen } from '../listen-address.js';
import { hubDeployment } from './deployment.js';
import type { HubConfig } from './hub-config.js';
import { leasePolicyFromConfig } from './lease-policy.js';
import { hubHealth, hubMetrics, startMetricsServer } from './metrics.js';
import { cloudFromConfig, storageFromConfig } from './modules.js';

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
  metricsUrl?: string;
  stop(): Promise<void>;
}

/**
 * A hub: a node with a WebSocket listener, the echo worker, and the
 * token_lease worker over the configured cloud and storage.
 */
export async function startHub(config: HubConfig, logger: Logger, env: NodeJS.ProcessEnv = process.env): Promise<Hub> {
  const deployment = hubDeployment(config);
  logger.info(
    { deployment: deployment.name, derived: deployment.derived, adoptLegacyTokens: config.adoptLegacyTokens },
    deployment.derived ? 'deployment derived from the storage (set --deployment to name it)' : 'deployment',
  );
  const { cloud, local } = await cloudFromConfig(config, env, deployment.name);
  const storage = storageFromConfig(config, logger.child({ component: 'storage' }));
  const leasePolicy = leasePolicyFromConfig(config);
  const service = new LeaseService({
    grants: leasePolicy.grants,
    quotas: leasePolicy.quotas,
    cloud,
    storage,
    policy: ttlPolicy({ defaultTtl: config.defaultTtl, minTtl: config.minTtl, maxTtl: config.maxTtl }),
    logger: logger.child({ component: 'token_lease' }),
    orphanGrace: config.orphanGrace,
  });
  await service.start();
  const node = new Node({ name: 'hub', logger });
  // a hub answers small JSON: what one peer can make it hold (a message on its way in, replies it does not read) stays small
  const transport = new WebSocketTransport(node, {
    forwarding: config.forward,
    slowPeerTimeout: config.slowPeerTimeout,
    maxMessageSize: config.maxMessageSize,
    highWaterMark: HUB_HIGH_WATER_MARK,
    maxQueuedBytes: HUB_MAX_QUEUED_BYTES,
  });
  await node.startWorker('echo', echoWorker);
  await node.startWorker(
    config.address,
    new TokenLeaseWorker(service, { ...leasePolicy.worker, ...(config.insecure ? { owners: 'anonymous', admins: ['anonymous'] } : { owners: 'connection' }) }),
  );
  const { host, port } = parseListen(config.listen);
  const listener = await transport.listen({ host, port, maxConnections: config.maxConnections, handshakeTimeout: config.handshakeTimeout });
  let metricsServer: Server | undefined;
  let metricsUrl: string | undefined;
  if (config.metrics !== undefined) {
    const m = parseListen(config.metrics);
    metricsServer = await startMetricsServer(m.host, m.port, hubMetrics(service, node, transport), () => hubHealth(service, deployment.name));
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
    ...(local ? { influx: local } : {}),
    ...(metricsUrl ? { metricsUrl } : {}),
    async stop() {
      await node.stop();
      await service.stop();
      await storage.close();
      await cloud.close?.();
      await new Promise<void>((resolve) => (metricsServer ? metricsServer.close(() => resolve()) : resolve()));
      await local?.close();
    },
  };
}

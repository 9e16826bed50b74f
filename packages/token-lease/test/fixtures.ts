import FakeTimers from '@sinonjs/fake-timers';
import { type Clock, fromUtf8, Node, route, type Route, silentLogger } from '@tessera/core';
import { influxdbV2 } from '@tessera/cloud-influxdb';
import { type InfluxdbLocal, startInfluxdbLocal } from '@tessera/influxdb-local';
import {
  type CloudService,
  type GrantPolicy,
  type LeaseDecider,
  type LeaseResponse,
  type LeaseServiceOptions,
  type OwnerQuotas,
  LeaseService,
  memoryStorage,
  type StorageService,
  TokenLeaseWorker,
  type TokenLeaseWorkerOptions,
  ttlPolicy,
  type TtlPolicyInput,
} from '@tessera/token-lease';
import { WebSocketTransport } from '@tessera/transport-ws';
import { writeStatus } from '@tessera/testing';

/** A fake clock shaped as the runtime's Clock, plus `tick`. */
export function fakeClock(start = Date.now()) {
  const fake = FakeTimers.createClock(start);
  const clock: Clock = { now: () => fake.now, setTimeout: fake.setTimeout, clearTimeout: fake.clearTimeout };
  return { clock, tick: (ms: number) => fake.tick(ms) };
}

export interface HubFixture {
  influx: InfluxdbLocal;
  cloud: CloudService;
  storage: StorageService;
  service: LeaseService;
  worker: TokenLeaseWorker;
  hub: Node;
  port: number;
  /** A new device node (its own connection) that sends lease requests to the hub. */
  device(): Promise<Device>;
  close(): Promise<void>;
}

export interface Device {
  node: Node;
  call(request: object | string): Promise<LeaseResponse>;
}

export async function startHub(
  options: {
    storage?: StorageService;
    cloud?: (influx: InfluxdbLocal) => CloudService;
    clock?: Clock;
    policy?: TtlPolicyInput;
    worker?: TokenLeaseWorkerOptions;
    grants?: GrantPolicy;
    decisions?: LeaseDecider;
    quotas?: OwnerQuotas;
    influx?: InfluxdbLocal;
    orphanGrace?: number;
    reconcileEvery?: number;
    scheduler?: LeaseServiceOptions['scheduler'];
  } = {},
): Promise<HubFixture> {
  const influx = options.influx ?? (await startInfluxdbLocal({ port: 0, org: 'tessera', bucket: 'tessera', token: 'operator-token-for-tests' }));
  const cloud = options.cloud?.(influx) ?? influxdbV2({ url: influx.url, token: influx.token, org: influx.org });
  const storage = options.storage ?? memoryStorage();
  const service = new LeaseService({
    cloud,
    storage,
    policy: ttlPolicy(options.policy ?? {}),
    orphanGrace: options.orphanGrace ?? 0,
    ...(options.grants ? { grants: options.grants } : {}),
    ...(options.decisions ? { decisions: options.decisions } : {}),
    ...(options.quotas ? { quotas: options.quotas } : {}),
    reconcileEvery: options.reconcileEvery ?? 0,
    ...(options.clock ? { clock: options.clock } : {}),
    ...(options.scheduler ? { scheduler: options.scheduler } : {}),
  });
  await service.start();
  const hub = new Node({ name: 'hub', logger: silentLogger });
  const transport = new WebSocketTransport(hub);
  const worker = new TokenLeaseWorker(service, options.worker);
  await hub.startWorker('token_lease', worker);
  const listener = await transport.listen();
  const devices: Node[] = [];
  return {
    influx,
    cloud,
    storage,
    service,
    worker,
    hub,
    port: listener.port,
    async device() {
      const node = new Node({ name: 'device', logger: silentLogger });
      new WebSocketTransport(node);
      devices.push(node);
      const to: Route = route(`3#127.0.0.1:${listener.port}`, 'token_lease');
      return {
        node,
        async call(request) {
          const body = typeof request === 'string' ? request : JSON.stringify(request);
          const reply = await node.request(to, body, { timeout: 10_000 });
          return JSON.parse(fromUtf8(reply.payload)) as LeaseResponse;
        },
      };
    },
    async close() {
      await Promise.all(devices.map((d) => d.stop()));
      await hub.stop();
      await service.stop();
      await storage.close();
      await cloud.close?.();
      if (options.influx === undefined) await influx.close();
    },
  };
}

/** Writes one point with a token through the official client; resolves with the HTTP status (204 on success). */
export function writeWith(influx: InfluxdbLocal, token: string): Promise<number> {
  return writeStatus(influx, token);
}

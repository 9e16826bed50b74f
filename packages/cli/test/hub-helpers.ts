// Shared by the hub tests that run `tessera hub` as a child process on a
// redis-server of their own, with an influxdb-local in the test process (so the
// tests see every token and count every DELETE).
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { influxdbV2 } from '@tessera/cloud-influxdb';
import { fromUtf8, Node, route, silentLogger } from '@tessera/core';
import { type InfluxdbLocal, startInfluxdbLocal } from '@tessera/influxdb-local';
import { parseRedisSpec, type RedisSpecEnv, redisStorage } from '@tessera/storage-redis';
import { type RedisServer, type RedisServerOptions, startRedisServer, waitUntil, writeStatus as writeWith } from '@tessera/testing';

export { waitUntil };
import type { LeaseResponse, StorageService } from '@tessera/token-lease';
import { WebSocketTransport } from '@tessera/transport-ws';


const BIN = fileURLToPath(new URL('../dist/bin.js', import.meta.url));
export const DELETE_ROUTE = 'DELETE /api/v2/authorizations/{authID}';
export const POST_ROUTE = 'POST /api/v2/authorizations';

/**
 * A redis-server of the test's own (never the one on 6379). Without
 * redis-server installed the test is skipped, except under CI=true, where it fails.
 */
export async function ownRedis(ctx: Mocha.Context, options: RedisServerOptions = {}): Promise<RedisServer> {
  try {
    return await startRedisServer(options);
  } catch (err) {
    if (/not found: install/.test((err as Error).message) && process.env['CI'] !== 'true') ctx.skip();
    throw err;
  }
}

/** An influxdb-local on a free port with a random operator token. */
export async function ownInflux(): Promise<InfluxdbLocal> {
  return await startInfluxdbLocal({ port: 0, org: 'tessera', bucket: 'tessera', token: randomBytes(24).toString('base64url') });
}

/** Requests influxdb-local served on a route so far. */
export function served(influx: InfluxdbLocal, routeKey: string): number {
  return influx.stats()[routeKey] ?? 0;
}

/** Waits until the wall clock reaches `at` (ms since the epoch): a deadline, not a sleep that passes by luck. */
export async function waitForTime(at: number, what = 'the deadline'): Promise<void> {
  await waitUntil(what, () => Date.now() >= at, Math.max(0, at - Date.now()) + 2_000, 10);
}

/** Writes one point with `token`; the HTTP status (204 when the token works, 401 once revoked). */
export function writeStatus(influx: InfluxdbLocal, token: string): Promise<number> {
  return writeWith(influx, token);
}

/** The namespace a hub keeps its leases in when it is given `url` for `influx` (as the hub derives it from the cloud). */
export function hubNamespace(influx: InfluxdbLocal, url = influx.url): { cloudService: string; cloudServiceAddress: string } {
  const cloud = influxdbV2({ url, token: influx.token, org: influx.org });
  return { cloudService: cloud.name, cloudServiceAddress: cloud.getAddress() };
}

/**
 * Runs `use` on a Redis storage of the test's own in `namespace`, on `spec` as `--storage`
 * takes it (a redis:// URL, redis+cluster:// or redis+sentinel://; passwords from `env`).
 */
export async function withStorage<T>(spec: string, namespace: ReturnType<typeof hubNamespace>, use: (storage: StorageService) => Promise<T>, env: RedisSpecEnv = {}): Promise<T> {
  const storage = redisStorage({ ...parseRedisSpec(spec, env).connection, connectTimeoutMs: 2_000 });
  try {
    await storage.init(namespace);
    return await use(storage);
  } finally {
    await storage.close();
  }
}

/** Leases the hub keeps in Redis for this influxdb-local (the namespace the hub uses). */
export async function storedLeases(redisUrl: string, influx: InfluxdbLocal): Promise<number> {
  return await withStorage(redisUrl, hubNamespace(influx), (storage) => storage.count());
}

/** `tessera hub` in a child process. */
export interface HubProcess {
  port: number;
  child: ChildProcess;
  /** The tail of what it printed (stdout and stderr), for failure messages. */
  output(): string;
  alive(): boolean;
  /** Sends `signal` and resolves with how the process ended. */
  kill(signal: NodeJS.Signals): Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

const hubs = new Set<HubProcess>();

/**
 * Starts `node packages/cli/dist/bin.js hub` on `listen` against `redisUrl` and
 * `influx` (operator token in INFLUX_TOKEN, anonymous callers, --min-ttl 100)
 * (plus `env`, e.g. REDIS_PASSWORD) and resolves once it prints its "listening on" line.
 * `influxUrl` is the URL the hub is given for it (default its own; e.g. a TcpProxy in front of it).
 */
export async function spawnHub(options: { listen: string; redisUrl: string; influx: InfluxdbLocal; influxUrl?: string; args?: string[]; env?: NodeJS.ProcessEnv }): Promise<HubProcess> {
  const env: NodeJS.ProcessEnv = {};
  // only what the test says: no TESSERA_* or INFLUX_* from the shell running the tests
  for (const [key, value] of Object.entries(process.env)) {
    if (!key.startsWith('TESSERA_') && !key.startsWith('INFLUX_')) env[key] = value;
  }
  Object.assign(env, options.env);
  env['INFLUX_TOKEN'] = options.influx.token;
  const args = [BIN, 'hub', '--listen', options.listen, '--storage', options.redisUrl, '--influx-url', options.influxUrl ?? options.influx.url, '--insecure', '--min-ttl', '100', ...(options.args ?? [])];
  const child = spawn(process.execPath, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  const collect = (chunk: Buffer) => {
    out = (out + chunk.toString('utf8')).slice(-20_000);
  };
  child.stdout.on('data', collect);
  child.stderr.on('data', collect);
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal })),
  );
  const hub: HubProcess = {
    port: Number(options.listen.split(':').at(-1)),
    child,
    output: () => out,
    alive: () => child.exitCode === null && child.signalCode === null,
    async kill(signal) {
      if (hub.alive()) child.kill(signal);
      const end = await exited;
      hubs.delete(hub);
      return end;
    },
  };
  hubs.add(hub);
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`hub did not start within 15 s:\n${out}`)), 15_000);
    const onData = () => {
      if (!out.includes('listening on')) return;
      clearTimeout(timer);
      child.stdout.off('data', onData);
      resolve();
    };
    child.stdout.on('data', onData);
    void exited.then(({ code, signal }) => {
      clearTimeout(timer);
      reject(new Error(`hub exited (${code ?? signal}) before listening:\n${out}`));
    });
  });
  return hub;
}

/** Kills every hub a test left running (afterEach). */
export async function killHubs(): Promise<void> {
  await Promise.all([...hubs].map((h) => h.kill('SIGKILL')));
}

/** A device node that speaks the lease protocol (JSON over WebSocket) to a hub's token_lease worker. */
export interface LeaseCaller {
  call(request: object | string | Uint8Array, timeoutMs?: number): Promise<LeaseResponse>;
  close(): Promise<void>;
}

export function leaseCaller(port: number): LeaseCaller {
  const node = new Node({ name: 'device', logger: silentLogger });
  new WebSocketTransport(node);
  const to = route(`3#127.0.0.1:${port}`, 'token_lease');
  return {
    async call(request, timeoutMs = 10_000) {
      const body = typeof request === 'string' || request instanceof Uint8Array ? request : JSON.stringify(request);
      const reply = await node.request(to, body, { timeout: timeoutMs });
      return JSON.parse(fromUtf8(reply.payload)) as LeaseResponse;
    },
    close: () => node.stop(),
  };
}

/** The lease of a successful response; a failure throws with its message. */
export function leaseOf(response: LeaseResponse): NonNullable<LeaseResponse['lease']> {
  if (response.result !== 'success' || response.lease === undefined) throw new Error(`expected a lease, got ${JSON.stringify(response)}`);
  return response.lease;
}

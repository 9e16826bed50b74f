import { InvalidOptionsError } from '@tessera/token-lease';
import { Cluster, Redis, type ClusterNode, type ClusterOptions, type RedisOptions } from 'ioredis';
import { z } from 'zod';

/** Where connection trouble is reported (a pino or @tessera/core Logger fits). */
export interface StorageLogger {
  info(fields: object, message: string): void;
  warn(fields: object, message: string): void;
}

export interface RedisStorageOptions {
  /** `redis://[user:password@]host[:port][/db]` or `rediss://` for TLS. */
  url?: string;
  /** ioredis options (host, port, password, db, tls, Sentinel's `sentinels` and `name`, ...); over `url` when both are given. */
  redis?: RedisOptions;
  /** Redis Cluster: startup nodes and ioredis Cluster options. Excludes `url` and `redis`. */
  cluster?: { nodes: ClusterNode[]; options?: ClusterOptions };
  /** Prepended to every key (default `tessera:`); no `{` or `}`, the hash tag follows it. */
  prefix?: string;
  /** How long init() and ready() wait for a connection, and ioredis' connect timeout (default 5000 ms). */
  connectTimeoutMs?: number;
  /** How long a command may go unanswered before it fails (default 2000 ms). */
  commandTimeoutMs?: number;
  /** Reconnect back-off: doubles from minDelayMs up to maxDelayMs, with jitter (default 50..2000 ms). */
  reconnect?: { minDelayMs?: number; maxDelayMs?: number };
  /** Leases fetched per round trip by getAll (default 1000). */
  batchSize?: number;
  logger?: StorageLogger;
}

const port = z.number().int().min(1).max(65535);
const positive = z.number().int().positive();
const hostPort = z.looseObject({ host: z.string().min(1).optional(), port: port.optional() });

// Only what we rely on is checked here; everything else goes to ioredis as given.
const RedisOptionsSchema = z
  .looseObject({
    host: z.string().min(1).optional(),
    port: port.optional(),
    path: z.string().min(1).optional(),
    db: z.number().int().min(0).optional(),
    username: z.string().optional(),
    password: z.string().optional(),
    sentinels: z.array(hostPort).min(1).optional(),
    name: z.string().min(1).optional(),
    sentinelPassword: z.string().optional(),
    keyPrefix: z.undefined({ error: 'keyPrefix is not supported: use the storage option `prefix`' }).optional(),
  })
  .refine((o) => o.sentinels === undefined || o.name !== undefined, { message: 'Sentinel needs `name` (the master group) with `sentinels`' });

const OptionsSchema = z.strictObject({
  url: z.string().optional(),
  redis: RedisOptionsSchema.optional(),
  cluster: z
    .strictObject({
      nodes: z.array(z.union([z.string().min(1), port, hostPort])).min(1),
      options: z.looseObject({ redisOptions: RedisOptionsSchema.optional() }).optional(),
    })
    .optional(),
  prefix: z.string().regex(/^[^{}]*$/, 'must not contain { or }').default('tessera:'),
  connectTimeoutMs: positive.default(5000),
  commandTimeoutMs: positive.default(2000),
  reconnect: z
    .strictObject({ minDelayMs: positive.default(50), maxDelayMs: positive.default(2000) })
    .refine((r) => r.minDelayMs <= r.maxDelayMs, { message: 'minDelayMs must not exceed maxDelayMs' })
    .default({ minDelayMs: 50, maxDelayMs: 2000 }),
  batchSize: positive.max(100_000).default(1000),
  logger: z.custom<StorageLogger>((l) => typeof (l as StorageLogger | null)?.warn === 'function' && typeof (l as StorageLogger).info === 'function', 'must have info() and warn()').optional(),
});

/** Validated options plus how to reach Redis. */
export interface ResolvedOptions {
  prefix: string;
  connectTimeoutMs: number;
  commandTimeoutMs: number;
  batchSize: number;
  logger: StorageLogger | undefined;
  /** `host:port`, a Sentinel group or Cluster nodes: for messages. */
  where: string;
  /** Passwords that must never appear in a message. */
  secrets: string[];
  /** A new client, not yet connected. */
  createClient(): Redis | Cluster;
}

/** Checks the options (InvalidOptionsError, never echoing a password) and prepares the client. */
export function resolveOptions(input: RedisStorageOptions): ResolvedOptions {
  const parsed = OptionsSchema.safeParse(input);
  if (!parsed.success) {
    const issues = parsed.error.issues.map((i) => `${i.path.join('.') || '(options)'}: ${i.message}`).join('; ');
    throw new InvalidOptionsError(`redis storage: ${issues}`);
  }
  const o = parsed.data;
  const sources = [o.url !== undefined || o.redis !== undefined, o.cluster !== undefined].filter(Boolean).length;
  if (sources !== 1) throw new InvalidOptionsError('redis storage: give `url` and/or `redis`, or `cluster` (not both)');

  const backoff = (times: number): number => {
    const delay = Math.min(o.reconnect.maxDelayMs, o.reconnect.minDelayMs * 2 ** Math.min(times - 1, 20));
    return Math.round(delay / 2 + Math.random() * (delay / 2));
  };
  // These define the failure behaviour (fail fast, recover by reconnecting), so they win over the caller's.
  const failFast = {
    lazyConnect: true,
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
    autoResendUnfulfilledCommands: false,
    connectTimeout: o.connectTimeoutMs,
    commandTimeout: o.commandTimeoutMs,
  } satisfies RedisOptions;

  const common = { prefix: o.prefix, connectTimeoutMs: o.connectTimeoutMs, commandTimeoutMs: o.commandTimeoutMs, batchSize: o.batchSize, logger: o.logger };

  if (input.cluster !== undefined) {
    const userOptions = input.cluster.options ?? {};
    const secrets = [userOptions.redisOptions?.password, ...input.cluster.nodes.map((n) => (typeof n === 'string' ? urlPassword(n) : undefined))];
    return {
      ...common,
      where: `cluster ${input.cluster.nodes.map(describeNode).join(',')}`,
      secrets: clean(secrets),
      createClient: () =>
        new Cluster(input.cluster!.nodes, {
          ...userOptions,
          lazyConnect: true,
          enableOfflineQueue: false,
          clusterRetryStrategy: backoff,
          redisOptions: {
            ...userOptions.redisOptions,
            maxRetriesPerRequest: 0,
            autoResendUnfulfilledCommands: false,
            connectTimeout: o.connectTimeoutMs,
            commandTimeout: o.commandTimeoutMs,
          },
        }),
    };
  }

  const fromUrl = input.url === undefined ? {} : parseUrl(input.url);
  const merged: RedisOptions = { ...fromUrl, ...input.redis, ...failFast, retryStrategy: backoff };
  if (merged.sentinels !== undefined) merged.sentinelRetryStrategy = backoff;
  return {
    ...common,
    where: describeRedis(merged),
    secrets: clean([merged.password, merged.sentinelPassword]),
    createClient: () => new Redis(merged),
  };
}

function parseUrl(text: string): RedisOptions {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new InvalidOptionsError('redis storage: url is not a valid URL (expected redis://[user:password@]host[:port][/db])');
  }
  if (url.protocol !== 'redis:' && url.protocol !== 'rediss:') {
    throw new InvalidOptionsError(`redis storage: url must start with redis:// or rediss://, not ${url.protocol}//`);
  }
  if (url.hostname === '') throw new InvalidOptionsError('redis storage: url has no host');
  const db = url.pathname === '' || url.pathname === '/' ? 0 : Number(url.pathname.slice(1));
  if (!Number.isInteger(db) || db < 0) throw new InvalidOptionsError('redis storage: url path must be a database number, e.g. redis://host:6379/2');
  const options: RedisOptions = {
    // URL keeps IPv6 literals bracketed; net.connect wants them bare.
    host: url.hostname.replace(/^\[(.*)\]$/, '$1'),
    port: url.port === '' ? 6379 : Number(url.port),
    db,
  };
  if (url.username !== '') options.username = decodeURIComponent(url.username);
  if (url.password !== '') options.password = decodeURIComponent(url.password);
  if (url.protocol === 'rediss:') options.tls = { servername: options.host! };
  return options;
}

function describeRedis(o: RedisOptions): string {
  if (o.sentinels !== undefined) {
    return `Sentinel group ${JSON.stringify(o.name)} via ${o.sentinels.map((s) => `${s.host ?? 'localhost'}:${s.port ?? 26379}`).join(',')}`;
  }
  if (o.path !== undefined) return o.path;
  const host = o.host ?? 'localhost';
  return `${host.includes(':') ? `[${host}]` : host}:${o.port ?? 6379}`;
}

function describeNode(node: ClusterNode): string {
  if (typeof node === 'number') return `localhost:${node}`;
  if (typeof node === 'string') {
    try {
      const url = new URL(/^rediss?:\/\//.test(node) ? node : `redis://${node}`);
      return `${url.hostname}:${url.port || 6379}`;
    } catch {
      return '(invalid node)';
    }
  }
  return `${node.host ?? 'localhost'}:${node.port ?? 6379}`;
}

function urlPassword(node: string): string | undefined {
  try {
    const password = new URL(/^rediss?:\/\//.test(node) ? node : `redis://${node}`).password;
    return password === '' ? undefined : decodeURIComponent(password);
  } catch {
    return undefined;
  }
}

function clean(values: Array<string | undefined>): string[] {
  return values.filter((v): v is string => v !== undefined && v !== '');
}

/**
 * A client with the storage's own connection settings (fail fast, reconnect with back-off),
 * not yet connected (call connect()), for another store on the same Redis, e.g. a member store.
 */
export function redisClient(options: RedisStorageOptions): Redis | Cluster {
  return resolveOptions(options).createClient();
}

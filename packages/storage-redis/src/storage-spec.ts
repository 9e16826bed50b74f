import { InvalidOptionsError } from '@tessera/token-lease';
import { z } from 'zod';
import type { RedisStorageOptions } from './options.js';

/** Where a `--storage` spec says Redis is, as the options redisStorage takes. */
export interface RedisSpec {
  kind: 'redis' | 'cluster' | 'sentinel';
  /** `url`, `redis` or `cluster`: spread into RedisStorageOptions (or hand to redisClient). */
  connection: Pick<RedisStorageOptions, 'url' | 'redis' | 'cluster'>;
  /** Cluster nodes or Sentinels as `host:port`, lower case, sorted (no user or password): what identifies the deployment. */
  servers: string[];
  /** The Sentinel master group. */
  masterName?: string;
}

/** Passwords for the topologies, from the environment (a spec never carries them). */
export interface RedisSpecEnv {
  /** The data nodes' password (`requirepass`): `REDIS_PASSWORD`. */
  REDIS_PASSWORD?: string | undefined;
  /** The Sentinels' own password, if they have one: `REDIS_SENTINEL_PASSWORD`. */
  REDIS_SENTINEL_PASSWORD?: string | undefined;
}

const HostPort = z
  .string()
  .regex(/^(?:\[[0-9a-fA-F:.]+\]|[A-Za-z0-9._-]+):\d{1,5}$/, 'expected host:port')
  .transform((text) => {
    const colon = text.lastIndexOf(':');
    return { host: text.slice(0, colon).replace(/^\[(.*)\]$/, '$1').toLowerCase(), port: Number(text.slice(colon + 1)) };
  })
  .refine((n) => n.port >= 1 && n.port <= 65535, 'port must be 1..65535');
const Servers = z.string().transform((list) => list.split(',')).pipe(z.array(HostPort).min(1).max(64));
const MasterName = z.string().regex(/^[A-Za-z0-9._-]{1,128}$/, 'expected the master group name (letters, digits, . _ -)');
const Password = z.string().min(1).optional().catch(undefined);

const SCHEMES = /^(redis\+cluster|redis\+sentinel):\/\/(.*)$/;

/**
 * Reads a storage spec (never echoing it: a `redis://` URL may hold a password):
 *
 * - `redis://[user:password@]host[:port][/db]`, `rediss://...`: one server;
 * - `redis+cluster://host:port,host:port,...`: a Redis Cluster, by any of its nodes;
 * - `redis+sentinel://host:port,host:port,.../<master name>`: the primary Sentinel names for that group.
 *
 * The topologies take their password from `REDIS_PASSWORD` (and `REDIS_SENTINEL_PASSWORD` for the Sentinels); so
 * does a `redis://` URL without a password of its own.
 */
export function parseRedisSpec(spec: string, env: RedisSpecEnv = {}): RedisSpec {
  const password = Password.parse(env.REDIS_PASSWORD);
  if (/^rediss?:\/\//.test(spec)) {
    // a password in the URL wins; REDIS_PASSWORD is for a URL without one
    return { kind: 'redis', connection: password === undefined || urlHasPassword(spec) ? { url: spec } : { url: spec, redis: { password } }, servers: [] };
  }
  const match = SCHEMES.exec(spec);
  if (match === null) throw new InvalidOptionsError('redis storage: expected redis://, rediss://, redis+cluster://host:port,... or redis+sentinel://host:port,.../<master name>');
  const [, scheme, rest] = match as unknown as [string, string, string];
  const fail = (what: string, error: z.ZodError): never => {
    throw new InvalidOptionsError(`redis storage: ${scheme}:// ${what}: ${error.issues.map((i) => i.message).join('; ')}`);
  };
  if (scheme === 'redis+cluster') {
    const nodes = Servers.safeParse(rest.replace(/\/$/, ''));
    if (!nodes.success) return fail('nodes', nodes.error);
    return {
      kind: 'cluster',
      connection: { cluster: { nodes: nodes.data, options: password === undefined ? {} : { redisOptions: { password } } } },
      servers: describe(nodes.data),
    };
  }
  const slash = rest.indexOf('/');
  const sentinels = Servers.safeParse(slash < 0 ? rest : rest.slice(0, slash));
  if (!sentinels.success) return fail('sentinels', sentinels.error);
  const name = MasterName.safeParse(slash < 0 ? '' : rest.slice(slash + 1));
  if (!name.success) return fail('master name', name.error);
  const sentinelPassword = Password.parse(env.REDIS_SENTINEL_PASSWORD);
  return {
    kind: 'sentinel',
    connection: {
      redis: {
        sentinels: sentinels.data,
        name: name.data,
        ...(password === undefined ? {} : { password }),
        ...(sentinelPassword === undefined ? {} : { sentinelPassword }),
      },
    },
    servers: describe(sentinels.data),
    masterName: name.data,
  };
}

/** The servers as `host:port`, sorted, each once: the same nodes in any order and with repeats name the same deployment. */
function describe(nodes: Array<{ host: string; port: number }>): string[] {
  return [...new Set(nodes.map((n) => (n.host.includes(':') ? `[${n.host}]:${n.port}` : `${n.host}:${n.port}`)))].sort();
}

function urlHasPassword(spec: string): boolean {
  try {
    return new URL(spec).password !== '';
  } catch {
    return false; // the storage's own schema refuses a URL it cannot read
  }
}

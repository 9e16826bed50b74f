import { createHash, randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { resolve } from 'node:path';
import { parseRedisSpec } from '@tessera/storage-redis';
import { InvalidOptionsError } from '@tessera/token-lease';
import { isLoopback } from '../listen-address.js';
import type { HubConfig } from './hub-config.js';

/** The deployment a hub's tokens carry, and whether it was derived rather than set. */
export interface HubDeployment {
  name: string;
  derived: boolean;
}

/**
 * `--deployment`, or one derived from the storage so that hubs sharing a storage share
 * a deployment and hubs with different storages do not (docs/operations.md, "Deployments"):
 *
 * - Redis: host:port/db of the URL (never its user or password); plus this machine's name when
 *   the host is a loopback address, as every machine's `localhost` is another Redis.
 * - Redis Cluster / Sentinel: the node or Sentinel addresses (sorted) and the master group's name;
 *   plus this machine's name when every one of them is a loopback address.
 * - memory:<file>: this machine's name and the file's absolute path.
 * - memory: this machine's name and the listen address. A restarted hub is the same deployment
 *   and revokes the tokens its previous run left (it cannot have kept their leases). With port 0
 *   the address says nothing (two such hubs would share it and sweep each other's live tokens):
 *   a random deployment of this run alone.
 *
 * The name is the storage kind and 12 hex characters of a SHA-256 of those parts.
 */
export function hubDeployment(config: Pick<HubConfig, 'deployment' | 'storage' | 'listen'>, host: string = hostname()): HubDeployment {
  if (config.deployment !== undefined) return { name: config.deployment, derived: false };
  const digest = (kind: string, parts: string[]) => ({
    name: `${kind}-${createHash('sha256').update(JSON.stringify([kind, ...parts])).digest('hex').slice(0, 12)}`,
    derived: true,
  });
  if (config.storage === 'memory') {
    const anyPort = /:0+$/.test(config.listen);
    return digest('memory', anyPort ? [host, randomBytes(16).toString('hex')] : [host, config.listen]);
  }
  if (config.storage.startsWith('memory:')) return digest('memory', [host, resolve(config.storage.slice('memory:'.length))]);
  if (/^redis\+(cluster|sentinel):/.test(config.storage)) {
    const spec = parseRedisSpec(config.storage);
    const local = spec.servers.every((s) => isLoopback(s.replace(/^\[?(.*?)\]?:\d+$/, '$1')));
    return digest(`redis-${spec.kind}`, [...spec.servers, spec.masterName ?? '', ...(local ? [host] : [])]);
  }
  let url: URL;
  try {
    url = new URL(config.storage);
  } catch {
    // not echoed: the URL may hold a password
    throw new InvalidOptionsError('--storage is not a valid redis:// URL (expected redis://[user:password@]host[:port][/db])');
  }
  const server = url.hostname.replace(/^\[(.*)\]$/, '$1').toLowerCase();
  const port = url.port === '' ? '6379' : url.port;
  const db = url.pathname === '' || url.pathname === '/' ? '0' : url.pathname.slice(1);
  return digest('redis', [`${server}:${port}/${db}`, ...(isLoopback(server) ? [host] : [])]);
}

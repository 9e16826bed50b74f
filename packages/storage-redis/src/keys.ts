import { createHash } from 'node:crypto';
import type { StorageNamespace } from '@tessera/token-lease';

/**
 * Where a namespace's leases live. Every key carries the same hash tag
 * (`{<16 hex of sha256(namespace)>}`), so one namespace is one Cluster slot and
 * the Lua scripts may touch all of its keys:
 *
 *   <prefix>{<ns>}:lease:<id>   hash: one lease record
 *   <prefix>{<ns>}:due          sorted set: lease ids by due time (ms since epoch)
 *   <prefix>{<ns>}:meta         hash: the namespace in clear, for operators, and an epoch
 *                               (random, set once): gone or changed means the data was lost
 *   <prefix>{<ns>}:orphan:<id>  string, expiring: a hub's claim on revoking a token without a lease
 */
/** The hash tag of a namespace's keys: 16 hex of SHA-256 over the cloud service and its address. Other stores of the same hub (its members) use it too, to stay in the same Cluster slot. */
export function namespaceTag(namespace: StorageNamespace): string {
  return createHash('sha256').update(JSON.stringify([namespace.cloudService, namespace.cloudServiceAddress])).digest('hex').slice(0, 16);
}

export class KeyLayout {
  readonly tag: string;
  readonly due: string;
  readonly meta: string;
  private readonly leasePrefix: string;
  private readonly base: string;

  constructor(prefix: string, namespace: StorageNamespace) {
    this.tag = namespaceTag(namespace);
    const base = `${prefix}{${this.tag}}:`;
    this.base = base;
    this.due = `${base}due`;
    this.meta = `${base}meta`;
    // The claim script derives lease keys from the due key the same way.
    this.leasePrefix = `${base}lease:`;
  }

  lease(id: string): string {
    return this.leasePrefix + id;
  }

  orphan(id: string): string {
    return `${this.base}orphan:${id}`;
  }
}

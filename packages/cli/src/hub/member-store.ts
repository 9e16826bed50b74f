import { type MemberStore, memoryMemberStore, redisMemberStore } from '@tessera/authority';
import type { Logger } from '@tessera/core';
import { namespaceTag } from '@tessera/storage-redis';
import type { StorageNamespace } from '@tessera/token-lease';
import type { HubConfig } from './hub-config.js';

/**
 * Where the hub keeps its members and bootstrap tokens, beside its leases:
 * memory (kept in `<snapshot>.members.json` when the leases have a snapshot
 * file), or the same Redis, under the leases' hash tag (`tessera:{<tag>}:auth:`).
 */
export function memberStoreFromConfig(config: HubConfig, namespace: StorageNamespace, logger: Logger): MemberStore {
  if (config.storage === 'memory') return memoryMemberStore({ logger });
  if (config.storage.startsWith('memory:')) return memoryMemberStore({ snapshotPath: membersSnapshotPath(config.storage.slice('memory:'.length)), logger });
  return redisMemberStore({ redis: config.storage, keyPrefix: `tessera:{${namespaceTag(namespace)}}:auth:`, logger });
}

/** The members' snapshot file beside a lease snapshot file: `hub.json` → `hub.members.json`. */
export function membersSnapshotPath(leaseSnapshot: string): string {
  return leaseSnapshot.endsWith('.json') ? `${leaseSnapshot.slice(0, -'.json'.length)}.members.json` : `${leaseSnapshot}.members.json`;
}

import { type MemberPage, type MemberStore, MemberStoreUnavailableError, memoryMemberStore, redisMemberStore } from '@tessera/authority';
import type { Logger } from '@tessera/core';
import { namespaceTag, parseRedisSpec, redisClient } from '@tessera/storage-redis';
import type { StorageNamespace } from '@tessera/token-lease';
import type { HubConfig } from './hub-config.js';

/**
 * Where the hub keeps its members and bootstrap tokens, beside its leases:
 * memory (kept in `<snapshot>.members.json` when the leases have a snapshot
 * file), or the same Redis (one server, a Cluster, or via Sentinel), under the
 * leases' hash tag (`tessera:{<tag>}:auth:`), so one slot holds them all.
 */
export function memberStoreFromConfig(config: HubConfig, namespace: StorageNamespace, logger: Logger, env: NodeJS.ProcessEnv = process.env): MemberStore {
  if (config.storage === 'memory') return memoryMemberStore({ logger });
  if (config.storage.startsWith('memory:')) return memoryMemberStore({ snapshotPath: membersSnapshotPath(config.storage.slice('memory:'.length)), logger });
  // a client like the lease storage's (fail fast while Redis is away, reconnect by itself), owned here
  const client = redisClient(parseRedisSpec(config.storage, env).connection);
  client.on('error', (err: unknown) => logger.warn({ err: err instanceof Error ? err.message : String(err) }, 'member store: Redis connection error'));
  const store = redisMemberStore({ redis: client, keyPrefix: `tessera:{${namespaceTag(namespace)}}:auth:`, logger });
  return withClient(store, client);
}

type Client = ReturnType<typeof redisClient>;

/** `store` on a client it does not own: connects the client first, and closes it after the store. */
function withClient(store: MemberStore, client: Client): MemberStore {
  const ready = async (): Promise<void> => {
    // once: after that the client reconnects by itself, and requests fail fast meanwhile
    if (client.status !== 'wait') return;
    try {
      await client.connect();
    } catch (err) {
      throw new MemberStoreUnavailableError(`member store: Redis unavailable: ${(err instanceof Error ? err.message : String(err)).slice(0, 200)}`);
    }
  };
  return {
    init: async () => {
      await ready();
      await store.init();
    },
    addToken: async (token, now) => (await ready(), store.addToken(token, now)),
    redeem: async (hash, identifier, now) => (await ready(), store.redeem(hash, identifier, now)),
    member: async (identifier) => (await ready(), store.member(identifier)),
    members: async (page?: MemberPage) => (await ready(), store.members(page)),
    remove: async (identifier) => (await ready(), store.remove(identifier)),
    close: async () => {
      await store.close();
      if (client.status === 'ready') await client.quit().catch(() => undefined);
      client.disconnect();
    },
  };
}

/** The members' snapshot file beside a lease snapshot file: `hub.json` → `hub.members.json`. */
export function membersSnapshotPath(leaseSnapshot: string): string {
  return leaseSnapshot.endsWith('.json') ? `${leaseSnapshot.slice(0, -'.json'.length)}.members.json` : `${leaseSnapshot}.members.json`;
}

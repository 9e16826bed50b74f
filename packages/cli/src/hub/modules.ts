import { influxdbV1, influxdbV2 } from '@tessera/cloud-influxdb';
import { type InfluxdbLocal, startInfluxdbLocal } from '@tessera/influxdb-local';
import { parseRedisSpec, redisStorage } from '@tessera/storage-redis';
import { type CloudService, InvalidOptionsError, memoryStorage, type StorageService } from '@tessera/token-lease';
import type { Logger } from '@tessera/core';
import type { HubConfig } from './hub-config.js';

export interface CloudModule {
  cloud: CloudService;
  /** The in-process InfluxDB started when none was named. */
  local?: InfluxdbLocal;
}

/** The cloud service a configuration names; with no InfluxDB URL, an influxdb-local in this process. */
export async function cloudFromConfig(config: HubConfig, env: NodeJS.ProcessEnv, deployment: string): Promise<CloudModule> {
  const owner = { deployment, adoptLegacyTokens: config.adoptLegacyTokens };
  if (config.cloud === 'influxdb-v1') {
    // 1.x: --influx-bucket names the database leases may write to; the admin comes from INFLUX_USERNAME / INFLUX_PASSWORD
    return { cloud: influxdbV1({ url: config.influxUrl!, grants: [{ database: config.influxBucket, privilege: 'WRITE' }], ...owner }) };
  }
  if (config.influxUrl !== undefined) {
    const token = env['INFLUX_TOKEN'];
    if (token === undefined || token === '') throw new InvalidOptionsError('INFLUX_TOKEN must hold the operator token of the InfluxDB at --influx-url');
    return {
      cloud: influxdbV2({ url: config.influxUrl, token, org: config.influxOrg, permissions: [{ action: 'write', bucket: config.influxBucket }], ...owner }),
    };
  }
  const local = await startInfluxdbLocal({ port: 0, org: config.influxOrg, bucket: config.influxBucket });
  const cloud = influxdbV2({ url: local.url, token: local.token, org: local.org, permissions: [{ action: 'write', bucket: local.bucket }], ...owner });
  return { cloud, local };
}

/** The storage a configuration names: memory (optionally with a snapshot file) or Redis (one server, a Cluster, or via Sentinel; REDIS_PASSWORD). */
export function storageFromConfig(config: HubConfig, logger: Logger, env: NodeJS.ProcessEnv = process.env): StorageService {
  if (config.storage === 'memory') return memoryStorage({ logger });
  if (config.storage.startsWith('memory:')) return memoryStorage({ snapshotPath: config.storage.slice('memory:'.length), logger });
  return redisStorage({ ...parseRedisSpec(config.storage, env).connection, logger });
}

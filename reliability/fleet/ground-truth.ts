// What the hub's storage and the cloud hold, read from them directly (not through the hub):
// the leases in Redis, as a second hub on the same storage would read them, and the tokens
// influxdb-local holds. Every lease value and token read is registered as a secret.
import { influxdbV2 } from '@tessera/cloud-influxdb';
import { redisStorage } from '@tessera/storage-redis';
import type { LeaseRecord } from '@tessera/token-lease';
import { z } from 'zod';
import type { Evidence } from '../evidence.js';

export interface CloudToken {
  id: string;
  /** When influxdb-local made it (epoch ms). */
  created: number;
}

const AuthorizationsSchema = z.looseObject({
  authorizations: z.array(z.looseObject({ id: z.string(), token: z.string(), createdAt: z.string() })),
});

/** Every lease the hub's Redis storage holds for this influxdb-local (the namespace the hub uses). */
export async function storedLeases(evidence: Evidence, redisUrl: string, influx: { url: string; token: string }): Promise<LeaseRecord[]> {
  // the namespace is the cloud module's name and address, built the way the hub builds them
  const cloud = influxdbV2({ url: influx.url, token: influx.token, org: 'tessera', permissions: [{ action: 'write', bucket: 'tessera' }] });
  const storage = redisStorage({ url: redisUrl, connectTimeoutMs: 5_000 });
  try {
    await storage.init({ cloudService: cloud.name, cloudServiceAddress: cloud.getAddress() });
    const leases = await storage.getAll();
    for (const lease of leases) evidence.secret('a lease value', lease.value);
    return leases;
  } finally {
    await storage.close();
  }
}

/** Every token influxdb-local holds but its operator token: in a scenario, only the hub makes tokens. */
export async function cloudTokens(evidence: Evidence, influx: { url: string; token: string }): Promise<CloudToken[]> {
  const response = await fetch(`${influx.url}/api/v2/authorizations`, { headers: { authorization: `Token ${influx.token}` }, signal: AbortSignal.timeout(10_000) });
  if (!response.ok) throw new Error(`GET ${influx.url}/api/v2/authorizations answered ${response.status}`);
  const { authorizations } = AuthorizationsSchema.parse(await response.json());
  const tokens: CloudToken[] = [];
  for (const a of authorizations) {
    if (a.token === influx.token) continue;
    evidence.secret('a cloud token', a.token);
    tokens.push({ id: a.id, created: Date.parse(a.createdAt) });
  }
  return tokens;
}

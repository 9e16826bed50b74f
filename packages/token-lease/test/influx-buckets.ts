// Buckets of an influxdb-local, and what a token may do with them, over its HTTP API.
import type { InfluxdbLocal } from '@tessera/influxdb-local';

/** Creates a bucket with the operator token; its id. */
export async function createBucket(influx: InfluxdbLocal, name: string): Promise<string> {
  const response = await fetch(`${influx.url}/api/v2/buckets`, {
    method: 'POST',
    headers: { authorization: `Token ${influx.token}`, 'content-type': 'application/json' },
    body: JSON.stringify({ orgID: influx.orgID, name }),
  });
  const body = (await response.json()) as { id: string };
  if (response.status !== 201) throw new Error(`bucket ${name} not created: ${response.status}`);
  return body.id;
}

/** HTTP status of a write to `bucket` with `token` (204, or 403 when the token may not). */
export async function writeTo(influx: InfluxdbLocal, bucket: string, token: string): Promise<number> {
  const params = new URLSearchParams({ org: influx.org, bucket, precision: 'ms' });
  const response = await fetch(`${influx.url}/api/v2/write?${params}`, {
    method: 'POST',
    headers: { authorization: `Token ${token}` },
    body: `probe value=1 ${Date.now()}`,
  });
  await response.arrayBuffer();
  return response.status;
}

/** HTTP status of a read of `bucket` with `token` (200, or 403). */
export async function readFrom(influx: InfluxdbLocal, bucket: string, token: string): Promise<number> {
  const params = new URLSearchParams({ org: influx.org, bucket });
  const response = await fetch(`${influx.url}/api/v2/local/points?${params}`, { headers: { authorization: `Token ${token}` } });
  await response.arrayBuffer();
  return response.status;
}

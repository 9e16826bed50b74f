import { InfluxDB, setLogger } from '@influxdata/influxdb-client';

// the client logs every failed write; tests look at the status instead
setLogger({ error: () => undefined, warn: () => undefined });

/** Where to write: an InfluxDB v2 API (influxdb-local or a real one). */
export interface WriteTarget {
  url: string;
  org: string;
  bucket: string;
}

/**
 * Writes one point with `token` through the official client (no retries) and
 * resolves with the HTTP status: 204 when the token works, 401 once revoked.
 */
export async function writeStatus(target: WriteTarget, token: string, measurement = 'probe'): Promise<number> {
  const api = new InfluxDB({ url: target.url, token }).getWriteApi(target.org, target.bucket, 'ms', { maxRetries: 0 });
  api.writeRecord(`${measurement},test=probe value=1 ${Date.now()}`);
  try {
    await api.close();
    return 204;
  } catch (err) {
    const status = (err as { statusCode?: unknown }).statusCode;
    if (typeof status === 'number') return status;
    throw err;
  }
}

import { request } from 'node:http';
import { HttpError, InfluxDB, setLogger, type WritePrecisionType } from '@influxdata/influxdb-client';
import { AuthorizationsAPI, BucketsAPI, OrgsAPI } from '@influxdata/influxdb-client-apis';
import { expect } from 'chai';
import { startInfluxdbLocal, type InfluxdbLocal, type InfluxdbLocalOptions } from '../src/index.js';

// The client logs every failed write; the tests look at the errors themselves.
setLogger({ error: () => undefined, warn: () => undefined });

/** Starts a server on a free port; `stopAll` closes every one started. */
const running: InfluxdbLocal[] = [];
export async function start(options: InfluxdbLocalOptions = {}): Promise<InfluxdbLocal> {
  const server = await startInfluxdbLocal({ port: 0, token: 'operator-token', ...options });
  running.push(server);
  return server;
}
export async function stopAll(): Promise<void> {
  await Promise.all(running.splice(0).map((s) => s.close()));
}

/** The official management APIs for a token. */
export function apis(server: { url: string }, token: string) {
  const influx = new InfluxDB({ url: server.url, token });
  return { influx, auths: new AuthorizationsAPI(influx), buckets: new BucketsAPI(influx), orgs: new OrgsAPI(influx) };
}

/**
 * Writes lines with the official WriteApi (no retries) and resolves when they are flushed.
 * The batch is larger than any test writes, so close() sends everything and rejects with the
 * HttpError (close() does not wait for batches the client sent on its own when one filled up).
 */
export async function write(
  server: { url: string },
  token: string,
  lines: string[],
  target: { org: string; bucket: string; precision?: WritePrecisionType; headers?: Record<string, string>; gzipThreshold?: number },
): Promise<void> {
  const writeApi = new InfluxDB({ url: server.url, token }).getWriteApi(target.org, target.bucket, target.precision ?? 'ns', {
    maxRetries: 0,
    flushInterval: 0,
    batchSize: 10_000,
    ...(target.gzipThreshold !== undefined ? { gzipThreshold: target.gzipThreshold } : {}),
    ...(target.headers !== undefined ? { headers: target.headers } : {}),
  });
  writeApi.writeRecords(lines);
  await writeApi.close();
}

/** The HttpError a call fails with (fails the test if it succeeds or fails otherwise). */
export async function httpError(promise: Promise<unknown>): Promise<HttpError> {
  try {
    await promise;
  } catch (err) {
    expect(err).to.be.instanceOf(HttpError);
    return err as HttpError;
  }
  expect.fail('expected an HttpError');
}

export interface RawResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

/** One plain HTTP request, for what the clients cannot send (gzip by hand, malformed bodies, HEAD). */
export function raw(url: string, method: string, path: string, headers: Record<string, string> = {}, body?: Buffer | string): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const req = request(new URL(path, url), { method, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(body);
  });
}

/** Permissions to write (and read) one bucket of an org, or every bucket when `bucketID` is left out. */
export function bucketPermissions(orgID: string, bucketID?: string, actions: Array<'read' | 'write'> = ['write']) {
  return actions.map((action) => ({ action, resource: { type: 'buckets' as const, orgID, ...(bucketID !== undefined ? { id: bucketID } : {}) } }));
}

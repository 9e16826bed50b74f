import { randomBytes } from 'node:crypto';
import { expect } from 'chai';
import { HttpError, InfluxDB, Point, setLogger } from '@influxdata/influxdb-client';
import { startInfluxdbLocal } from '@tessera/influxdb-local';
import { cloudServiceSuite, freePort, type CloudServiceSuiteContext } from '@tessera/testing';
import type { CloudService, Lease } from '@tessera/token-lease';
import { influxdbV2 } from '../src/index.js';

const HOUR = 3_600_000;

interface Target {
  url: string;
  token: string;
  org: string;
  bucket: string;
  /** Points stored with a measurement (influxdb-local only). */
  countPoints?(measurement: string): number;
  close(): Promise<void>;
}

async function local(): Promise<Target> {
  const token = randomBytes(64).toString('base64url');
  const server = await startInfluxdbLocal({ port: 0, org: 'tessera', bucket: 'tessera', token });
  return {
    url: server.url,
    token,
    org: server.org,
    bucket: server.bucket,
    countPoints: (measurement) => server.countPoints({ measurement }),
    close: () => server.close(),
  };
}

/** INFLUX_URL, INFLUX_TOKEN and INFLUX_ORG (and INFLUX_BUCKET, default `tessera`) name a real InfluxDB 2. */
function real(): Target | undefined {
  const { INFLUX_URL: url, INFLUX_TOKEN: token, INFLUX_ORG: org, INFLUX_BUCKET: bucket } = process.env;
  if (url === undefined || token === undefined || org === undefined) return undefined;
  return { url, token, org, bucket: bucket ?? 'tessera', close: async () => undefined };
}

/** POST /api/v2/write with a leased token: true on 204, false on 401/403. */
async function canWrite(target: Target, lease: Lease): Promise<boolean> {
  const params = new URLSearchParams({ org: target.org, bucket: target.bucket, precision: 'ms' });
  const response = await fetch(`${target.url}/api/v2/write?${params}`, {
    method: 'POST',
    headers: { authorization: `Token ${lease.value}` },
    body: `probe value=1 ${Date.now()}`,
  });
  await response.arrayBuffer();
  if (response.status !== 204 && response.status !== 401 && response.status !== 403) throw new Error(`unexpected write status ${response.status}`);
  return response.status === 204;
}

/** Calls the v2 API with the operator token. */
async function api<T = unknown>(target: Target, method: string, path: string, body?: unknown): Promise<T> {
  const response = await fetch(`${target.url}/api/v2${path}`, {
    method,
    headers: { authorization: `Token ${target.token}`, 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  if (!response.ok) throw new Error(`${method} ${path}: ${response.status} ${text}`);
  return (text === '' ? undefined : JSON.parse(text)) as T;
}

async function suiteContext(target: Target): Promise<CloudServiceSuiteContext> {
  // A marker of its own per run: on a shared server the exact-set checks see only this run's tokens.
  const marker = `tessera-test-${randomBytes(4).toString('hex')}`;
  const service = influxdbV2({ url: target.url, token: target.token, org: target.org, marker, permissions: [{ action: 'write', bucket: target.bucket }] });
  const orgs = await api<{ orgs: Array<{ id: string }> }>(target, 'GET', `/orgs?org=${encodeURIComponent(target.org)}`);
  const orgID = orgs.orgs[0]!.id;
  const buckets = await api<{ buckets: Array<{ id: string }> }>(target, 'GET', `/buckets?orgID=${orgID}&name=${encodeURIComponent(target.bucket)}`);
  const bucketID = buckets.buckets[0]!.id;
  const unmanaged: string[] = [];
  const wrongToken = randomBytes(64).toString('base64url');
  return {
    service,
    canUse: (lease) => canWrite(target, lease),
    missingId: 'ffffffffffffff01',
    createUnmanaged: async () => {
      const auth = await api<{ id: string }>(target, 'POST', '/authorizations', {
        orgID,
        description: 'made by hand',
        permissions: [{ action: 'read', resource: { type: 'buckets', id: bucketID, orgID } }],
      });
      unmanaged.push(auth.id);
      return auth.id;
    },
    bulk: Number(process.env.TESSERA_V2_BULK ?? 2000),
    failing: [
      { label: 'wrong operator token', service: influxdbV2({ url: target.url, token: wrongToken, org: target.org }), error: 'CloudRejectedError' },
      { label: 'nothing listening', service: influxdbV2({ url: `http://127.0.0.1:${await freePort()}`, token: target.token, org: target.org }), error: 'CloudUnavailableError' },
    ],
    secrets: [target.token, wrongToken],
    teardown: async () => {
      for (const id of unmanaged) await api(target, 'DELETE', `/authorizations/${id}`).catch(() => undefined);
      await target.close();
    },
  };
}

cloudServiceSuite('influxdb-v2 on influxdb-local', async () => await suiteContext(await local()));

const realTarget = real();
if (realTarget !== undefined) {
  cloudServiceSuite(`influxdb-v2 on ${realTarget.url} (INFLUX_URL)`, async () => await suiteContext(realTarget));
}

for (const [label, makeTarget] of [
  ['influxdb-local', local],
  ...(realTarget === undefined ? [] : [[`${realTarget.url} (INFLUX_URL)`, async () => realTarget] as const]),
] as const) {
  describe(`influxdb-v2 with the official client on ${label}`, function () {
    this.timeout(60_000);
    let target: Target;
    let service: CloudService;

    before(async () => {
      target = await makeTarget();
      service = influxdbV2({ url: target.url, token: target.token, org: target.org, permissions: [{ action: 'write', bucket: target.bucket }] });
      await service.init();
    });
    after(async () => {
      await service?.close?.();
      await target?.close();
    });

    /** Writes one point through WriteApi with `token`; the HTTP status it ended with. */
    async function writeWithClient(token: string): Promise<number> {
      const writeApi = new InfluxDB({ url: target.url, token }).getWriteApi(target.org, target.bucket, 'ms', { maxRetries: 0 });
      writeApi.writePoint(new Point('probe').tag('from', 'cloud-influxdb-test').floatField('value', 1));
      const previous = setLogger({ error: () => undefined, warn: () => undefined }); // the client logs failed writes
      try {
        await writeApi.close();
        return 204;
      } catch (err) {
        if (err instanceof HttpError) return err.statusCode;
        throw err;
      } finally {
        setLogger(previous);
      }
    }

    it('a leased token writes (204) with WriteApi, and gets 401 after revoke', async () => {
      const issued = new Date();
      const lease = await service.create({ ttl: HOUR, issued, expires: new Date(issued.getTime() + HOUR), options: {} });
      const before = target.countPoints?.('probe');
      expect(await writeWithClient(lease.value)).to.equal(204);
      if (before !== undefined) expect(target.countPoints?.('probe')).to.equal(before + 1);
      await service.revoke(lease.id);
      expect(await writeWithClient(lease.value)).to.equal(401);
    });

    it('the token is granted the named bucket by id, not every bucket of the org', async () => {
      const issued = new Date();
      const lease = await service.create({ ttl: HOUR, issued, expires: new Date(issued.getTime() + HOUR), options: {} });
      const auth = await api<{ description: string; permissions: Array<{ action: string; resource: { type: string; id?: string } }> }>(
        target,
        'GET',
        `/authorizations/${lease.id}`,
      );
      expect(auth.permissions).to.have.length(1);
      expect(auth.permissions[0]!.action).to.equal('write');
      expect(auth.permissions[0]!.resource.type).to.equal('buckets');
      expect(auth.permissions[0]!.resource.id).to.match(/^[0-9a-f]{16}$/);
      expect(auth.description).to.equal(`tessera-lease v2 deployment=default expires=${lease.expires}`);
      await service.revoke(lease.id);
    });
  });
}

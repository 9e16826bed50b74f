// The modules' side of the hub's grant (docs/protocol.md §4): requestedPrivileges reads
// a request's options in the grant's terms, and create with `privileges` grants exactly
// those, whatever the options ask.
import { expect } from 'chai';
import { startInfluxdbLocal, type InfluxdbLocal } from '@tessera/influxdb-local';
import type { RunningInfluxd } from '@tessera/testing';
import { type CloudCreateRequest, type CloudService, NotAllowedError } from '@tessera/token-lease';
import { influxdbV1, influxdbV2 } from '../src/index.js';
import { adminQuery, basic, influxdOrSkip, splitCredential, writeV1 } from './helpers.js';

const HOUR = 3_600_000;

function request(options: Record<string, unknown>, privileges?: CloudCreateRequest['privileges']): CloudCreateRequest {
  const issued = new Date();
  return { ttl: HOUR, issued, expires: new Date(issued.getTime() + HOUR), options, ...(privileges ? { privileges } : {}) };
}

async function rejection(p: Promise<unknown>): Promise<unknown> {
  return p.then(
    () => undefined,
    (e: unknown) => e,
  );
}

describe('influxdb-v1 privileges (real influxd)', function () {
  this.timeout(60_000);
  let influxd: RunningInfluxd;
  let service: CloudService;

  before(async function () {
    influxd = await influxdOrSkip(this);
    for (const db of ['tessera', 'other']) await adminQuery(influxd, `CREATE DATABASE "${db}"`);
    service = influxdbV1({ url: influxd.url, username: influxd.adminUser, password: influxd.adminPassword });
    await service.init();
  });
  after(async () => {
    await influxd?.stop();
  });

  it('reads ALL as read and write, names none as undefined, and never offers the metadata database', async () => {
    expect(await service.requestedPrivileges({})).to.equal(undefined);
    expect(await service.requestedPrivileges({ grants: [{ database: 'tessera', privilege: 'all' }] })).to.deep.equal([
      { resource: 'tessera', access: 'read', asked: 'database "tessera" (ALL)' },
      { resource: 'tessera', access: 'write', asked: 'database "tessera" (ALL)' },
    ]);
    expect(await rejection(service.requestedPrivileges({ grants: [{ database: 'tessera_leases', privilege: 'READ' }] }))).to.be.instanceOf(NotAllowedError);
    expect(await rejection(service.requestedPrivileges({ grants: [{ database: 'tessera', privilege: 'ADMIN' }] }))).to.have.property('name', 'InvalidOptionsError');
  });

  it('creates exactly the decided privileges: the options cannot add to them; read and write on one database both hold', async () => {
    const lease = await service.create(
      request({ grants: [{ database: 'other', privilege: 'ALL' }] }, [
        { resource: 'tessera', access: 'read' },
        { resource: 'tessera', access: 'write' },
      ]),
    );
    try {
      expect(await writeV1(influxd.url, 'tessera', lease.value)).to.equal(204);
      expect(await writeV1(influxd.url, 'other', lease.value)).to.equal(403);
      const { user, password } = splitCredential(lease.value);
      const read = await fetch(`${influxd.url}/query?${new URLSearchParams({ db: 'tessera', q: 'SELECT * FROM probe LIMIT 1' })}`, {
        headers: { authorization: basic(user, password) },
      });
      await read.arrayBuffer();
      // a second GRANT on a database replaces the first in 1.x: READ and WRITE must become ALL, not WRITE alone
      expect(read.status).to.equal(200);
    } finally {
      await service.revoke(lease.id);
    }
  });
});

describe('influxdb-v2 privileges (influxdb-local)', () => {
  let influx: InfluxdbLocal;
  let service: CloudService;
  let otherId: string;

  before(async () => {
    influx = await startInfluxdbLocal({ port: 0, org: 'tessera', bucket: 'tessera', token: 'operator-token-for-privilege-tests' });
    const response = await fetch(`${influx.url}/api/v2/buckets`, {
      method: 'POST',
      headers: { authorization: `Token ${influx.token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ orgID: influx.orgID, name: 'other' }),
    });
    otherId = ((await response.json()) as { id: string }).id;
    service = influxdbV2({ url: influx.url, token: influx.token, org: influx.org });
    await service.init();
  });
  after(() => influx?.close());

  it('reads a bucket id as the name of that bucket, and refuses what no grant holds with NotAllowedError', async () => {
    expect(await service.requestedPrivileges({ permissions: [{ action: 'write', bucketID: otherId }] })).to.deep.equal([
      { resource: 'other', access: 'write', asked: `bucket id ${otherId}` },
    ]);
    expect(await service.requestedPrivileges({ permissions: [{ action: 'read', bucket: 'tessera' }] })).to.deep.equal([
      { resource: 'tessera', access: 'read', asked: 'bucket "tessera"' },
    ]);
    for (const options of [
      { permissions: [{ action: 'write' }] },
      { permissions: [{ action: 'write', resource: { type: 'orgs' } }] },
      { permissions: [{ action: 'write', bucketID: 'ffffffffffffffff' }] },
      { orgID: 'ffffffffffffffff' },
    ]) {
      expect(await rejection(service.requestedPrivileges(options)), JSON.stringify(options)).to.be.instanceOf(NotAllowedError);
    }
  });

  it('creates exactly the decided privileges, whatever the options ask', async () => {
    const lease = await service.create(request({ permissions: [{ action: 'write', bucket: 'other' }] }, [{ resource: 'tessera', access: 'write' }]));
    try {
      const status = async (bucket: string) => {
        const params = new URLSearchParams({ org: influx.org, bucket, precision: 'ms' });
        const res = await fetch(`${influx.url}/api/v2/write?${params}`, { method: 'POST', headers: { authorization: `Token ${lease.value}` }, body: `probe value=1 ${Date.now()}` });
        await res.arrayBuffer();
        return res.status;
      };
      expect(await status('tessera')).to.equal(204);
      expect(await status('other')).to.equal(403);
    } finally {
      await service.revoke(lease.id);
    }
  });
});

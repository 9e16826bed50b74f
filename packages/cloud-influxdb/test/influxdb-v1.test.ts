import { expect } from 'chai';
import { cloudServiceSuite, freePort, type RunningInfluxd } from '@tessera/testing';
import type { CloudService, Lease } from '@tessera/token-lease';
import { influxdbV1 } from '../src/index.js';
import { adminQuery, basic, influxdOrSkip, splitCredential, writeV1 } from './helpers.js';

const HOUR = 3_600_000;

function request(ttl = HOUR, options: Record<string, unknown> = {}) {
  const issued = new Date();
  return { ttl, issued, expires: new Date(issued.getTime() + ttl), options };
}

cloudServiceSuite('influxdb-v1 on influxd', async (ctx) => {
  const influxd = await influxdOrSkip(ctx);
  await adminQuery(influxd, 'CREATE DATABASE "tessera"');
  const service = influxdbV1({ url: influxd.url, username: influxd.adminUser, password: influxd.adminPassword });
  const closedPort = await freePort();
  let plain = 0;
  return {
    service,
    canUse: async (lease: Lease) => {
      const status = await writeV1(influxd.url, 'tessera', lease.value);
      if (status !== 204 && status !== 401 && status !== 403) throw new Error(`unexpected write status ${status}`);
      return status === 204;
    },
    missingId: 'tessera-lease_0000000000000000_20300101T000000.000Z',
    createUnmanaged: async () => {
      const name = `plain-user-${++plain}`;
      await adminQuery(influxd, `CREATE USER "${name}" WITH PASSWORD 'plain-password'`);
      return name;
    },
    // CREATE USER bcrypt-hashes the password (~60 ms of influxd CPU each), so thousands
    // would take minutes; 1.x lists users in one answer anyway, there is no paging to cross.
    bulk: Number(process.env.TESSERA_V1_BULK ?? 150),
    // influxd hashes on its own cores: 32 at once queue a request behind ~2 s of hashing, past its timeout on a loaded machine
    bulkConcurrency: 4,
    failing: [
      { label: 'wrong admin password', service: influxdbV1({ url: influxd.url, username: influxd.adminUser, password: 'wrong-password-123' }), error: 'CloudRejectedError' },
      { label: 'nothing listening', service: influxdbV1({ url: `http://127.0.0.1:${closedPort}`, username: influxd.adminUser, password: influxd.adminPassword }), error: 'CloudUnavailableError' },
    ],
    secrets: [influxd.adminPassword, 'wrong-password-123'],
    teardown: () => influxd.stop(),
  };
});

describe('influxdb-v1 against influxd', function () {
  this.timeout(60_000);
  let influxd: RunningInfluxd;
  let service: CloudService;

  before(async function () {
    influxd = await influxdOrSkip(this);
    await adminQuery(influxd, 'CREATE DATABASE "tessera"');
    service = influxdbV1({ url: influxd.url, username: influxd.adminUser, password: influxd.adminPassword });
    await service.init();
  });
  after(async () => {
    await influxd?.stop();
  });

  it('a leased credential writes (204) with Basic auth and with u/p, and gets 401 after revoke', async () => {
    const lease = await service.create(request());
    const { user, password } = splitCredential(lease.value);
    expect(lease.id).to.equal(user);
    expect(await writeV1(influxd.url, 'tessera', lease.value)).to.equal(204);
    const viaParams = await fetch(`${influxd.url}/write?${new URLSearchParams({ db: 'tessera', u: user, p: password })}`, { method: 'POST', body: 'probe value=2' });
    expect(viaParams.status).to.equal(204);
    await service.revoke(lease.id);
    expect(await writeV1(influxd.url, 'tessera', lease.value)).to.equal(401);
  });

  it('grants only what was asked: WRITE cannot read, READ cannot write', async () => {
    const writer = await service.create(request());
    const { user, password } = splitCredential(writer.value);
    const read = await fetch(`${influxd.url}/query?${new URLSearchParams({ db: 'tessera', q: 'SELECT * FROM probe' })}`, {
      headers: { authorization: basic(user, password) },
    });
    expect(read.status).to.equal(403);
    const reader = await service.create(request(HOUR, { grants: [{ database: 'tessera', privilege: 'read' }] }));
    expect(await writeV1(influxd.url, 'tessera', reader.value)).to.equal(403);
    await service.revoke(writer.id);
    await service.revoke(reader.id);
  });

  it('a grant on a missing database fails and leaves no user behind', async () => {
    const before = (await service.getAll()).filter((t) => t.managed).length;
    let err: unknown;
    try {
      await service.create(request(HOUR, { grants: [{ database: 'no-such-db', privilege: 'WRITE' }] }));
    } catch (e) {
      err = e;
    }
    expect(err).to.have.property('name', 'CloudRejectedError');
    expect((err as Error).message).to.contain('database not found');
    expect((await service.getAll()).filter((t) => t.managed).length).to.equal(before);
  });

  it('refuses to revoke or renew a user it does not manage', async () => {
    for (const call of [() => service.revoke(influxd.adminUser), () => service.renew(influxd.adminUser, HOUR, new Date())]) {
      let err: unknown;
      try {
        await call();
      } catch (e) {
        err = e;
      }
      expect(err).to.have.property('name', 'CloudRejectedError');
    }
    expect((await service.get(influxd.adminUser))?.managed).to.equal(false);
  });

  describe('injection', () => {
    // InfluxDB refuses "\\" in database names; quotes, semicolons and spaces it takes.
    const hostile = [
      'tessera" WITH ALL PRIVILEGES; DROP USER "admin',
      "tes'sera\"; DROP DATABASE \"tessera",
      'x""y',
      'db with spaces, = and commas',
    ];

    it('hostile database names are quoted: the grant lands on exactly that database', async () => {
      for (const name of hostile) {
        const quoted = `"${name.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;
        await adminQuery(influxd, `CREATE DATABASE ${quoted}`);
        const lease = await service.create(request(HOUR, { grants: [{ database: name, privilege: 'WRITE' }] }));
        expect(await writeV1(influxd.url, name, lease.value), name).to.equal(204);
        expect(await writeV1(influxd.url, 'tessera', lease.value), name).to.equal(403);
        await service.revoke(lease.id);
      }
      // The admin and the tessera database are still there.
      expect((await service.get(influxd.adminUser))?.id).to.equal(influxd.adminUser);
      await adminQuery(influxd, 'SHOW RETENTION POLICIES ON "tessera"');
    });

    it('control characters, unknown privileges and malformed options are rejected before any statement', async () => {
      const bad: unknown[] = [
        { grants: [{ database: 'tessera\nDROP USER admin', privilege: 'WRITE' }] },
        { grants: [{ database: 'tessera\\" ; DROP USER "admin', privilege: 'WRITE' }] },
        { grants: [{ database: '../tessera', privilege: 'WRITE' }] },
        { grants: [{ database: 'tessera', privilege: 'WRITE ON "x" TO "y"; --' }] },
        { grants: [{ database: 'tessera', privilege: 'ALL PRIVILEGES' }] },
        { grants: [{ database: '', privilege: 'WRITE' }] },
        { grants: [{ database: 'tessera', privilege: 'WRITE', extra: 1 }] },
        { grants: [] },
        { grants: 'tessera' },
      ];
      for (const options of bad) {
        let err: unknown;
        try {
          await service.create({ ...request(), options: options as Record<string, unknown> });
        } catch (e) {
          err = e;
        }
        expect(err, JSON.stringify(options)).to.have.property('name', 'InvalidOptionsError');
      }
    });

    it('token ids that are not managed names are refused (no DROP USER of an arbitrary name)', async () => {
      for (const id of ['admin', 'tessera-lease_x" ; DROP USER "admin', "tessera-lease_0000000000000000_20300101T000000.000Z'; --"]) {
        let err: unknown;
        try {
          await service.revoke(id);
        } catch (e) {
          err = e;
        }
        expect(err, id).to.have.property('name', 'CloudRejectedError');
      }
      // get() quotes whatever it is given: it finds nothing, or exactly the user named.
      expect(await service.get('nobody" OR "1"="1')).to.equal(undefined);
      expect(await service.get('line\nbreak')).to.equal(undefined);
      const odd = `we"ird\\us'er; DROP USER "${influxd.adminUser}"`;
      const quoted = `"${odd.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;
      await adminQuery(influxd, `CREATE USER ${quoted} WITH PASSWORD 'x'`);
      expect(await service.get(odd)).to.deep.equal({ id: odd, managed: false, active: true });
      expect((await service.getAll()).some((t) => t.id === odd)).to.equal(true);
    });

    it('the metadata database cannot be granted, and allowedDatabases limits requests', async () => {
      const limited = influxdbV1({ url: influxd.url, username: influxd.adminUser, password: influxd.adminPassword, allowedDatabases: ['tessera'] });
      for (const [svc, database] of [[service, 'tessera_leases'], [limited, hostile[0]!]] as const) {
        let err: unknown;
        try {
          await svc.create(request(HOUR, { grants: [{ database, privilege: 'WRITE' }] }));
        } catch (e) {
          err = e;
        }
        expect(err).to.have.property('name', 'InvalidOptionsError');
      }
    });
  });
});

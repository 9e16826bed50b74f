import { expect } from 'chai';
import type { InfluxdbLocal } from '@tessera/influxdb-local';
import { influxdbV2 } from '@tessera/cloud-influxdb';
import { redisStorage } from '@tessera/storage-redis';
import { freePort, type RedisServer } from '@tessera/testing';
import type { Lease } from '@tessera/token-lease';
import {
  DELETE_ROUTE,
  killHubs,
  leaseCaller,
  leaseOf,
  ownInflux,
  ownRedis,
  POST_ROUTE,
  served,
  spawnHub,
  storedLeases,
  waitForTime,
  waitUntil,
  writeStatus,
} from './hub-helpers.js';

// A child process cannot have a fake clock, and no TTL is sure to outlive spawning one on a
// busy machine: every lease is created long, and the test moves its expiry where it needs it
// (an edit of the stored lease while no hub runs; a renewal to a short TTL once the second
// hub runs). The test waits for conditions, never for a fixed time.
const LONG = 600_000;
const SOON = 2_000; // what the second hub's renewal leaves of the medium leases

/** Makes stored leases overdue, as if their expiry had passed while no hub ran. */
async function makeOverdue(redisUrl: string, influx: InfluxdbLocal, ids: string[]): Promise<number> {
  const cloud = influxdbV2({ url: influx.url, token: influx.token, org: influx.org });
  const storage = redisStorage({ url: redisUrl });
  const expires = Date.now() - 1;
  try {
    await storage.init({ cloudService: cloud.name, cloudServiceAddress: cloud.getAddress() });
    for (const id of ids) {
      const record = await storage.get(id);
      if (record === undefined || !(await storage.update({ ...record, expires: new Date(expires).toISOString() }))) throw new Error(`lease ${id} is not stored`);
    }
    return expires;
  } finally {
    await storage.close();
  }
}

describe('tessera hub on Redis: a restart forgets no lease', function () {
  this.timeout(60_000);
  let redis: RedisServer;
  let influx: InfluxdbLocal | undefined;

  before(async function () {
    redis = await ownRedis(this);
  });
  after(async () => {
    await redis?.stop();
  });
  afterEach(async () => {
    await killHubs();
    await influx?.close();
    influx = undefined;
  });

  for (const signal of ['SIGTERM', 'SIGKILL'] as const) {
    it(`after ${signal}: the next hub revokes at start what fell due meanwhile, the rest at its time, each exactly once`, async () => {
      const cloud = (influx = await ownInflux());
      const storage = `${redis.url}/0`;
      const dead = async (lease: Lease) => (await writeStatus(cloud, lease.value)) === 401;

      const first = await spawnHub({ listen: `127.0.0.1:${await freePort()}`, redisUrl: storage, influx: cloud });
      const device = leaseCaller(first.port);
      const leases = (await Promise.all(Array.from({ length: 6 }, () => device.call({ action: 'create', options: { ttl: LONG } })))).map(leaseOf);
      await device.close();
      const [short, medium, long] = [leases.slice(0, 3), leases.slice(3, 5), leases[5]!];

      const end = await first.kill(signal);
      expect(end, first.output()).to.deep.equal(signal === 'SIGTERM' ? { code: 0, signal: null } : { code: null, signal: 'SIGKILL' });
      expect(served(cloud, DELETE_ROUTE), 'the first hub revoked nothing (it ended before any expiry)').to.equal(0);
      expect(await storedLeases(storage, cloud)).to.equal(leases.length);

      // No hub runs while the short leases fall due: their tokens still work.
      const overdueSince = await makeOverdue(storage, cloud, short.map((l) => l.id));
      await waitForTime(overdueSince + 1, 'the short leases to be overdue');
      for (const l of short) expect(await writeStatus(cloud, l.value)).to.equal(204);

      const second = await spawnHub({ listen: `127.0.0.1:${await freePort()}`, redisUrl: storage, influx: cloud });
      await waitUntil('the overdue leases to be revoked at start', async () => (await Promise.all(short.map(dead))).every(Boolean), 20_000);

      // The others still work; the medium ones, renewed to a short TTL on the second hub, are revoked at their new expiry.
      for (const l of [...medium, long]) expect(await writeStatus(cloud, l.value)).to.equal(204);
      const caller = leaseCaller(second.port);
      const renewed = (await Promise.all(medium.map((l) => caller.call({ action: 'renew', token_id: l.id, ttl: SOON })))).map(leaseOf);
      for (const l of renewed) {
        let diedBy = 0;
        await waitUntil(
          `lease ${l.id} to be revoked at its expiry`,
          async () => {
            const isDead = await dead(l);
            diedBy = Date.now();
            return isDead;
          },
          Date.parse(l.expires) - Date.now() + 20_000,
        );
        // not before its time (how long after depends on the machine's load)
        expect(diedBy).to.be.at.least(Date.parse(l.expires));
      }

      // The long lease lived through both hubs; it ends on request.
      expect((await caller.call({ action: 'revoke', token_id: long.id })).result).to.equal('success');
      await caller.close();
      expect(await dead(long)).to.equal(true);

      // None forgotten, none revoked twice: Redis is empty, and every token got exactly one DELETE
      // (each is dead, so each got at least one; there are as many DELETEs as tokens).
      expect(await storedLeases(storage, cloud)).to.equal(0);
      expect(served(cloud, POST_ROUTE)).to.equal(leases.length);
      expect(served(cloud, DELETE_ROUTE), second.output()).to.equal(leases.length);
      expect((await second.kill('SIGTERM')).code).to.equal(0);
    });
  }
});

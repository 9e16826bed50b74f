import { expect } from 'chai';
import type { InfluxdbLocal } from '@tessera/influxdb-local';
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

// A child process cannot have a fake clock: TTLs are short and the tests wait
// for deadlines and conditions (bounded), never for a fixed time.
const SHORT = 1_000; // falls due while no hub runs
const MEDIUM = 5_000; // falls due after the second hub has started
const LONG = 600_000; // outlives both hubs; revoked on request at the end

describe('tessera hub on Redis: a restart forgets no lease', function () {
  this.timeout(30_000);
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
      const ttls = [SHORT, SHORT, SHORT, MEDIUM, MEDIUM, LONG];
      const leases = (await Promise.all(ttls.map((ttl) => device.call({ action: 'create', options: { ttl } })))).map(leaseOf);
      await device.close();
      const short = leases.filter((l) => l.ttl === SHORT);
      const medium = leases.filter((l) => l.ttl === MEDIUM);
      const long = leases.find((l) => l.ttl === LONG)!;
      const expiry = (l: Lease) => Date.parse(l.expires);

      const end = await first.kill(signal);
      expect(end, first.output()).to.deep.equal(signal === 'SIGTERM' ? { code: 0, signal: null } : { code: null, signal: 'SIGKILL' });
      expect(served(cloud, DELETE_ROUTE), 'the first hub revoked nothing (it ended before any expiry)').to.equal(0);
      expect(await storedLeases(storage, cloud)).to.equal(leases.length);

      // No hub runs while the short leases fall due: their tokens still work.
      await waitForTime(Math.max(...short.map(expiry)), 'the short leases to fall due');
      for (const l of short) expect(await writeStatus(cloud, l.value)).to.equal(204);

      const second = await spawnHub({ listen: `127.0.0.1:${await freePort()}`, redisUrl: storage, influx: cloud });
      await waitUntil('the overdue leases to be revoked at start', async () => (await Promise.all(short.map(dead))).every(Boolean), 5_000);

      // The others still work until their own expiry, and are revoked then.
      expect(Date.now(), 'precondition: the medium leases are not due yet').to.be.below(Math.min(...medium.map(expiry)));
      for (const l of [...medium, long]) expect(await writeStatus(cloud, l.value)).to.equal(204);
      for (const l of medium) {
        let diedBy = 0;
        await waitUntil(
          `lease ${l.id} to be revoked at its expiry`,
          async () => {
            const isDead = await dead(l);
            diedBy = Date.now();
            return isDead;
          },
          expiry(l) - Date.now() + 5_000,
        );
        // revoked neither before its time nor long after (the scheduler wakes at the due time)
        expect(diedBy).to.be.at.least(expiry(l));
        expect(diedBy - expiry(l)).to.be.below(3_000);
      }

      // The long lease lived through both hubs; it ends on request.
      const caller = leaseCaller(second.port);
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

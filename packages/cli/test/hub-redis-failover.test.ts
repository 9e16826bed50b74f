// Two `tessera hub` processes creating leases while the Redis primary that holds
// them fails over (Sentinel; a Cluster primary with a replica). Replication is
// asynchronous: what the old primary acknowledged but the replica never got is
// lost. The test makes that loss certain (the replica is cut off first, so every
// create acknowledged after the cut is lost), holds the replica back until a
// create has failed through each hub, and proves what the hubs promise:
// clients see `unavailable` while it lasts, both hubs serve again without a
// restart, and no token is left alive without a lease: each lost lease's token
// is swept as an orphan, and every token the cloud made ends up a lease the hubs
// know or revoked exactly once.
import { expect } from 'chai';
import { influxdbV2 } from '@tessera/cloud-influxdb';
import type { InfluxdbLocal } from '@tessera/influxdb-local';
import { namespaceTag } from '@tessera/storage-redis';
import { cutReplication, freePort, type RedisCluster, type RedisSentinel, type RedisServer, skipWithoutRedis, startRedisCluster, startRedisSentinel } from '@tessera/testing';
import type { Lease, LeaseResponse } from '@tessera/token-lease';
import { DELETE_ROUTE, type HubProcess, hubNamespace, killHubs, leaseCaller, type LeaseCaller, leaseOf, ownInflux, POST_ROUTE, served, spawnHub, waitUntil, withStorage, writeStatus } from './hub-helpers.js';

const PASSWORD = 'failover-secret';
const ENV = { REDIS_PASSWORD: PASSWORD };
/**
 * The hubs sweep every second, and a token without a lease is an orphan once this old: short for a
 * test, yet far longer than a create takes from the cloud's token to the lease saved (a Cluster
 * client retries up to about 1.6 s), so no sweep takes a create under way for an orphan.
 */
const ORPHAN_GRACE = 10_000;

/** One create a device made under load: when it was asked and answered, and what it got. */
interface Attempt {
  asked: number;
  answered: number;
  response: LeaseResponse;
}

/** Creates through `device`, one at a time, until `stop()`; every attempt is kept. */
function createLoad(device: LeaseCaller) {
  const attempts: Attempt[] = [];
  let running = true;
  const done = (async () => {
    while (running) {
      const asked = Date.now();
      const response = await device.call({ action: 'create', options: { ttl: 600_000 } }, 30_000);
      attempts.push({ asked, answered: Date.now(), response });
    }
  })();
  return {
    attempts,
    succeededSince: (at: number) => attempts.filter((a) => a.asked >= at && a.response.result === 'success').length,
    async stop() {
      running = false;
      await done;
    },
  };
}

/** What the topology under test does: cut its replica off, then lose the primary so that replica takes over. */
interface Failover {
  spec: string;
  cut(): Promise<{ restore(): Promise<void> }>;
  /** Kills the primary; the replica takes over once `whileDown` resolves. */
  fail(whileDown: () => Promise<void>): Promise<void>;
  /** Brings the old primary back (as a replica), for whatever runs next. */
  after(): Promise<void>;
}

describe('tessera hubs through a Redis failover under write load', function () {
  this.timeout(120_000);
  let influx: InfluxdbLocal | undefined;
  const callers: LeaseCaller[] = [];

  afterEach(async () => {
    await Promise.all(callers.splice(0).map((c) => c.close()));
    await killHubs();
    await influx?.close();
    influx = undefined;
  });

  /** The scenario, on any topology: load through two hubs, cut, fail over, check every token. */
  async function writesThroughFailover(topology: (cloud: InfluxdbLocal) => Promise<Failover>): Promise<void> {
    const cloud = (influx = await ownInflux());
    const failover = await topology(cloud);
    const args = ['--log-level', 'warn', '--reconcile-every', '1000', '--orphan-grace', String(ORPHAN_GRACE), '--creates-per-minute', '0', '--max-leases-per-owner', '0'];
    const hub = async () => spawnHub({ listen: `127.0.0.1:${await freePort()}`, redisUrl: failover.spec, influx: cloud, env: ENV, args });
    const hubs: HubProcess[] = await Promise.all([hub(), hub()]);
    const devices = hubs.map((h) => {
      const c = leaseCaller(h.port);
      callers.push(c);
      return c;
    });
    const loads = devices.map(createLoad);
    const everyHub = (what: string, n: number, since: number) =>
      waitUntil(what, () => loads.every((l) => l.succeededSince(since) >= n), 60_000, 10);
    const everyHubFailed = (since: number) =>
      waitUntil('a create to fail through each hub while there is no primary', () => loads.every((l) => l.attempts.some((a) => a.asked >= since && a.response.result === 'failure')), 60_000, 10);

    await everyHub('creates to succeed through both hubs', 3, 0);
    const replication = await failover.cut();
    const cutAt = Date.now();
    // each of these was acknowledged by the old primary alone: the failover loses it
    await everyHub('creates the replica never gets', 2, cutAt);
    const failingAt = Date.now();
    await failover.fail(() => everyHubFailed(failingAt));
    const failedAt = Date.now();
    await everyHub('both hubs to create again after the failover, without a restart', 3, failedAt);
    await Promise.all(loads.map((l) => l.stop()));
    await replication.restore();

    const attempts = loads.flatMap((l) => l.attempts);
    const failures = attempts.filter((a) => a.response.result === 'failure').map((a) => a.response);
    for (const f of failures) {
      expect(f.code, f.message).to.equal('unavailable');
      expect(f.message).to.not.contain(PASSWORD);
    }
    const acknowledged = attempts.filter((a) => a.response.result === 'success');
    // saved after the cut and acknowledged before the primary went: by the old primary alone
    const mustBeLost = new Set(acknowledged.filter((a) => a.asked >= cutAt && a.answered < failingAt).map((a) => leaseOf(a.response).id));
    const leases: Lease[] = acknowledged.map((a) => leaseOf(a.response));

    // what the hubs know now: a lease is there through either hub, or gone through both
    const known: Lease[] = [];
    const lost: Lease[] = [];
    for (const [i, lease] of leases.entries()) {
      const r = await devices[i % 2]!.call({ action: 'get', token_id: lease.id });
      if (r.result === 'success') known.push(lease);
      else {
        expect(r.code, r.message).to.equal('not_found');
        lost.push(lease);
      }
    }
    expect(lost.map((l) => l.id), 'every create acknowledged after the cut is lost').to.include.members([...mustBeLost]);
    // a device whose lease was lost meets 401 once the sweep has been, and gets a new lease
    await waitUntil('every lost lease’s token to be swept', async () => {
      for (const l of lost) if ((await writeStatus(cloud, l.value)) !== 401) return false;
      return true;
    }, 60_000, 100);
    const renewedLife = leaseOf(await devices[0]!.call({ action: 'create', options: { ttl: 600_000 } }));
    known.push(renewedLife);
    for (const l of known) expect(await writeStatus(cloud, l.value), `${l.id} known and working`).to.equal(204);

    // no token left alive without a lease: what the cloud still holds is exactly what the hubs know
    const deployment = /deployment ([\w.-]+)\)/.exec(hubs[0]!.output())?.[1];
    const operator = influxdbV2({ url: cloud.url, token: cloud.token, org: cloud.org, ...(deployment === undefined ? {} : { deployment }) });
    const alive = (await operator.getAll()).filter((t) => t.managed).map((t) => t.id);
    await operator.close?.();
    expect(alive.sort()).to.deep.equal(known.map((l) => l.id).sort());
    // and every other token the cloud made was revoked exactly once (lost ones by the sweep, failed creates by their rollback)
    expect(served(cloud, DELETE_ROUTE)).to.equal(served(cloud, POST_ROUTE) - alive.length);

    for (const [i, l] of known.entries()) expect((await devices[i % 2]!.call({ action: 'revoke', token_id: l.id })).result, l.id).to.equal('success');
    await waitUntil('no lease stored', async () => (await withStorage(failover.spec, hubNamespace(cloud), (s) => s.count(), ENV)) === 0, 20_000);
    expect(served(cloud, DELETE_ROUTE), `${hubs[0]!.output()}\n${hubs[1]!.output()}`).to.equal(served(cloud, POST_ROUTE));
    expect(hubs.map((h) => h.alive())).to.deep.equal([true, true]);
    expect(hubs.map((h) => h.output()).join('\n')).to.not.contain(PASSWORD);
    await failover.after();
  }

  describe('via Sentinel: the primary killed', () => {
    let sentinel: RedisSentinel;
    before(async function () {
      sentinel = await skipWithoutRedis(this, () => startRedisSentinel({ password: PASSWORD }));
    });
    after(async () => {
      await sentinel?.stop();
    });

    it('clients see unavailable, then both hubs create again; lost leases’ tokens are swept, every other token is a lease or revoked once', async () => {
      let from: RedisServer | undefined;
      await writesThroughFailover(async () => ({
        spec: `redis+sentinel://${sentinel.sentinels.join(',')}/${sentinel.masterName}`,
        async cut() {
          const primary = await sentinel.primary();
          return await cutReplication(sentinel.servers.find((s) => s !== primary)!, primary, PASSWORD);
        },
        async fail(whileDown) {
          from = (await sentinel.failover('kill', { sync: false, whileDown })).from;
        },
        async after() {
          await from?.restart();
        },
      }));
    });
  });

  describe('on a Cluster: the primary holding the hubs’ slot killed, its replica takes over', () => {
    let cluster: RedisCluster;
    before(async function () {
      cluster = await skipWithoutRedis(this, () => startRedisCluster({ password: PASSWORD, replicas: 1 }));
    });
    after(async () => {
      await cluster?.stop();
    });

    it('clients see unavailable, then both hubs create again; lost leases’ tokens are swept, every other token is a lease or revoked once', async () => {
      let primary: RedisServer | undefined;
      await writesThroughFailover(async (cloud) => {
        primary = await cluster.primaryFor(`tessera:{${namespaceTag(hubNamespace(cloud))}}:due`);
        const replica = await cluster.replicaOf(primary);
        return {
          spec: `redis+cluster://${cluster.addresses.join(',')}`,
          cut: () => cutReplication(replica, primary!, PASSWORD),
          async fail(whileDown) {
            await cluster.failover(primary!, { whileDown });
          },
          async after() {
            await primary?.restart();
            await cluster.waitUntilOk();
          },
        };
      });
    });
  });
});

// Several `tessera hub` processes on a three-primary Redis Cluster and on a
// Sentinel-watched primary and replica: any hub serves any device, each lease is
// revoked exactly once, and a lost primary means failures while it lasts, then
// recovery without restarting a hub.
import { expect } from 'chai';
import { newBootstrapToken, tokenHash, tokenReference } from '@tessera/authority';
import { silentLogger } from '@tessera/core';
import type { InfluxdbLocal } from '@tessera/influxdb-local';
import { namespaceTag } from '@tessera/storage-redis';
import { freePort, type RedisCluster, type RedisSentinel, skipWithoutRedis, startRedisCluster, startRedisSentinel } from '@tessera/testing';
import type { Lease } from '@tessera/token-lease';
import { HubConfigSchema } from '../src/hub/hub-config.js';
import { memberStoreFromConfig } from '../src/hub/member-store.js';
import { DELETE_ROUTE, type HubProcess, hubNamespace, killHubs, leaseCaller, type LeaseCaller, leaseOf, ownInflux, POST_ROUTE, served, spawnHub, waitForTime, waitUntil, withStorage, writeStatus } from './hub-helpers.js';

const PASSWORD = 'topology-secret';
const ENV = { REDIS_PASSWORD: PASSWORD };

/** Leases the hubs keep for `influx` in the storage `spec` names. */
function stored(spec: string, influx: InfluxdbLocal): Promise<number> {
  return withStorage(spec, hubNamespace(influx), (storage) => storage.count(), ENV);
}

describe('tessera hubs on Redis topologies', function () {
  this.timeout(60_000);
  let influx: InfluxdbLocal | undefined;
  const callers: LeaseCaller[] = [];
  const caller = (hub: HubProcess) => {
    const c = leaseCaller(hub.port);
    callers.push(c);
    return c;
  };
  const twoHubs = async (spec: string, cloud: InfluxdbLocal): Promise<[HubProcess, HubProcess]> => {
    const [portA, portB] = await Promise.all([freePort(), freePort()]);
    const hub = (port: number) => spawnHub({ listen: `127.0.0.1:${port}`, redisUrl: spec, influx: cloud, env: ENV, args: ['--log-level', 'warn'] });
    return await Promise.all([hub(portA), hub(portB)]);
  };
  /** At the end: every token made was revoked exactly once, none works, none is left stored. */
  const expectEveryTokenRevokedOnce = async (spec: string, cloud: InfluxdbLocal, leases: Lease[], output: () => string): Promise<void> => {
    await waitUntil('every token made to be revoked', () => served(cloud, DELETE_ROUTE) >= served(cloud, POST_ROUTE), 20_000);
    await waitUntil('no lease stored', async () => (await stored(spec, cloud)) === 0, 20_000);
    for (const l of leases) expect(await writeStatus(cloud, l.value), l.id).to.equal(401);
    expect(served(cloud, DELETE_ROUTE), output()).to.equal(served(cloud, POST_ROUTE));
    expect(output(), 'what the hubs printed').to.not.contain(PASSWORD);
  };

  afterEach(async () => {
    await Promise.all(callers.splice(0).map((c) => c.close()));
    await killHubs();
    await influx?.close();
    influx = undefined;
  });

  describe('on a three-primary Cluster (redis+cluster://, REDIS_PASSWORD)', () => {
    let cluster: RedisCluster;
    let spec: string;
    before(async function () {
      cluster = await skipWithoutRedis(this, () => startRedisCluster({ password: PASSWORD }));
      spec = `redis+cluster://${cluster.addresses.join(',')}`;
    });
    after(async () => {
      await cluster?.stop();
    });

    it('any hub serves any device, and each due lease is revoked exactly once', async () => {
      const cloud = (influx = await ownInflux());
      const [a, b] = await twoHubs(spec, cloud);
      const [viaA, viaB] = [caller(a), caller(b)];
      const kept = leaseOf(await viaA.call({ action: 'create', options: { ttl: 600_000 } }));
      expect(leaseOf(await viaB.call({ action: 'get', token_id: kept.id })).id).to.equal(kept.id);
      const renewed = leaseOf(await viaB.call({ action: 'renew', token_id: kept.id }));
      expect(leaseOf(await viaA.call({ action: 'get', token_id: kept.id })).expires).to.equal(renewed.expires);

      const n = 60;
      const due = (await Promise.all(Array.from({ length: n }, (_, i) => [viaA, viaB][i % 2]!.call({ action: 'create', options: { ttl: 300 + ((i * 37) % 900) } })))).map(leaseOf);
      await waitUntil('every due lease to be revoked', () => served(cloud, DELETE_ROUTE) >= n, 20_000);
      expect((await viaA.call({ action: 'revoke', token_id: kept.id })).result).to.equal('success');
      await expectEveryTokenRevokedOnce(spec, cloud, [kept, ...due], () => `${a.output()}\n${b.output()}`);
      expect(served(cloud, POST_ROUTE)).to.equal(n + 1);
      expect([a.alive(), b.alive()]).to.deep.equal([true, true]);
    });

    it('redeems a one-use enrollment token exactly once across hubs', async () => {
      const config = HubConfigSchema.parse({ storage: spec });
      const namespace = { cloudService: 'influxdb-v2', cloudServiceAddress: `http://127.0.0.1:1 enrollment=${Date.now()}` };
      const stores = Array.from({ length: 4 }, () => memberStoreFromConfig(config, namespace, silentLogger, ENV));
      try {
        const token = newBootstrapToken();
        const hash = tokenHash(token)!;
        const now = Date.now();
        await stores[0]!.addToken({ hash, reference: tokenReference(hash), attributes: { site: 'a' }, uses: 1, expires: now + 60_000 }, now);
        const identifiers = stores.map((_, i) => `I${String(i).repeat(64)}`);
        const outcomes = await Promise.all(stores.map((s, i) => s.redeem(hash, identifiers[i]!, now)));
        expect(outcomes.filter((o) => o.ok)).to.have.length(1);
        // a one-use token is gone once used: the others find nothing to redeem
        expect(outcomes.filter((o) => !o.ok).map((o) => !o.ok && o.reason)).to.deep.equal(['unknown', 'unknown', 'unknown']);
        const members = await stores[3]!.members();
        expect(members.map((m) => m.attributes)).to.deep.equal([{ site: 'a' }]);
      } finally {
        await Promise.all(stores.map((s) => s.close()));
      }
    });

    it('while the primary holding the hubs’ slot is down: requests fail, then both hubs recover without a restart, no lease lost or revoked twice', async () => {
      const cloud = (influx = await ownInflux());
      const [a, b] = await twoHubs(spec, cloud);
      const [viaA, viaB] = [caller(a), caller(b)];
      const kept = (await Promise.all([viaA, viaB, viaA, viaB].map((d) => d.call({ action: 'create', options: { ttl: 600_000 } })))).map(leaseOf);
      const due = leaseOf(await viaB.call({ action: 'create', options: { ttl: 1_500 } }));
      const primary = await cluster.primaryFor(`tessera:{${namespaceTag(hubNamespace(cloud))}}:due`);

      await primary.stop();
      // light load through both hubs: one request at a time each, until each has failed one
      const failures = [0, 0];
      await Promise.all(
        [viaA, viaB].map(async (device, i) => {
          while (failures[i] === 0) {
            const r = await device.call({ action: 'get', token_id: kept[i]!.id }, 30_000);
            if (r.result === 'failure') {
              expect(r.message).to.match(/unavailable/i).and.not.contain(PASSWORD);
              failures[i]!++;
            }
          }
        }),
      );
      const failedCreate = await viaA.call({ action: 'create', options: { ttl: 60_000 } }, 30_000);
      expect(failedCreate.result).to.equal('failure');
      // the short lease falls due meanwhile: nobody can claim it, its token still works
      await waitForTime(Date.parse(due.expires), 'the short lease to fall due');
      expect(await writeStatus(cloud, due.value)).to.equal(204);

      await primary.restart();
      await cluster.waitUntilOk();
      for (const device of [viaA, viaB]) {
        await waitUntil('the hub to serve again', async () => (await device.call({ action: 'list' }, 30_000)).result === 'success', 20_000, 50);
      }
      await waitUntil('the lease that fell due meanwhile to be revoked', async () => (await writeStatus(cloud, due.value)) === 401, 20_000);
      // nothing lost: every kept lease is there, through either hub
      for (const [i, lease] of kept.entries()) expect(leaseOf(await [viaA, viaB][i % 2]!.call({ action: 'get', token_id: lease.id })).id).to.equal(lease.id);
      const fresh = leaseOf(await viaB.call({ action: 'create', options: { ttl: 60_000 } }));
      for (const [i, lease] of [...kept, fresh].entries()) expect((await [viaA, viaB][i % 2]!.call({ action: 'revoke', token_id: lease.id })).result).to.equal('success');
      await expectEveryTokenRevokedOnce(spec, cloud, [...kept, due, fresh], () => `${a.output()}\n${b.output()}`);
      expect([a.alive(), b.alive()]).to.deep.equal([true, true]);
    });
  });

  describe('via Sentinel (redis+sentinel://, REDIS_PASSWORD)', () => {
    let sentinel: RedisSentinel;
    let spec: string;
    before(async function () {
      sentinel = await skipWithoutRedis(this, () => startRedisSentinel({ password: PASSWORD }));
      spec = `redis+sentinel://${sentinel.sentinels.join(',')}/${sentinel.masterName}`;
    });
    after(async () => {
      await sentinel?.stop();
    });

    it('through a failover (primary killed): requests fail while it lasts, then both hubs serve the new primary without a restart, no lease lost or revoked twice', async () => {
      const cloud = (influx = await ownInflux());
      const [a, b] = await twoHubs(spec, cloud);
      const [viaA, viaB] = [caller(a), caller(b)];
      const kept = (await Promise.all([viaA, viaB, viaA, viaB].map((d) => d.call({ action: 'create', options: { ttl: 600_000 } })))).map(leaseOf);

      // light load through both hubs (reads: nothing may be lost here; writes through a failover: hub-redis-failover.test.ts)
      let failing = true;
      const failures = [0, 0];
      const load = Promise.all(
        [viaA, viaB].map(async (device, i) => {
          while (failing) {
            const r = await device.call({ action: 'get', token_id: kept[i]!.id }, 30_000);
            if (r.result === 'failure') {
              expect(r.message).to.not.contain(PASSWORD);
              failures[i]!++;
            }
          }
        }),
      );
      const { from } = await sentinel.failover('kill');
      for (const device of [viaA, viaB]) {
        await waitUntil('the hub to serve again', async () => (await device.call({ action: 'create', options: { ttl: 1_000 } }, 30_000)).result === 'success', 30_000, 50);
      }
      failing = false;
      await load;
      expect(failures[0]! + failures[1]!, 'requests failed while the primary was gone').to.be.above(0);

      for (const [i, lease] of kept.entries()) expect(leaseOf(await [viaA, viaB][i % 2]!.call({ action: 'get', token_id: lease.id })).id).to.equal(lease.id);
      for (const [i, lease] of kept.entries()) expect((await [viaA, viaB][i % 2]!.call({ action: 'revoke', token_id: lease.id })).result).to.equal('success');
      await expectEveryTokenRevokedOnce(spec, cloud, kept, () => `${a.output()}\n${b.output()}`);
      expect([a.alive(), b.alive()]).to.deep.equal([true, true]);
      await from.restart(); // back as a replica of the new primary, for whatever runs next
    });
  });
});

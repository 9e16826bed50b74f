// Hubs sharing one Redis claim the leases that fall due before they revoke them
// (a claim moves a lease's due time on by the claim interval, 15 s, so no other
// hub takes it meanwhile). A hub killed before its revocations reach the cloud
// leaves them claimed: another hub revokes every one of them once the claim
// runs out, each exactly once.
import { expect } from 'chai';
import type { InfluxdbLocal } from '@tessera/influxdb-local';
import { namespaceTag, redisClient } from '@tessera/storage-redis';
import { freePort, startTcpProxy, type TcpProxy } from '@tessera/testing';
import type { Lease } from '@tessera/token-lease';
import { DELETE_ROUTE, hubNamespace, killHubs, leaseCaller, type LeaseCaller, leaseOf, ownInflux, ownRedis, POST_ROUTE, served, spawnHub, waitUntil, withStorage, writeStatus } from './hub-helpers.js';

/** The lease ids of the DELETE requests in `chunk` (what a hub sent the cloud). */
function deletedIds(chunk: Buffer): string[] {
  return [...chunk.toString('latin1').matchAll(/DELETE \/api\/v2\/authorizations\/(\w+) /g)].map((m) => m[1]!);
}

/** When each lease's DELETE first passed `proxy`, as seen by polling it (`seen()` reads what passed since the last call). */
function deletesPassing(proxy: TcpProxy): { seen(): Map<string, number>; count: Map<string, number> } {
  const first = new Map<string, number>();
  const count = new Map<string, number>();
  let read = 0;
  return {
    seen() {
      const now = Date.now();
      for (const chunk of proxy.bytes.slice(read)) {
        for (const id of deletedIds(chunk)) {
          if (!first.has(id)) first.set(id, now);
          count.set(id, (count.get(id) ?? 0) + 1);
        }
      }
      read = proxy.bytes.length;
      return first;
    },
    count,
  };
}

describe('tessera hubs on one Redis: a hub killed while it revokes', function () {
  this.timeout(90_000);
  let influx: InfluxdbLocal | undefined;
  let proxy: TcpProxy | undefined;
  let device: LeaseCaller | undefined;

  afterEach(async () => {
    await device?.close();
    device = undefined;
    await killHubs();
    proxy?.close();
    proxy = undefined;
    await influx?.close();
    influx = undefined;
  });

  it('leaves the leases it claimed to another hub, which revokes each exactly once when the claim runs out', async function () {
    const redis = await ownRedis(this);
    const raw = redisClient({ url: redis.url });
    try {
      const cloud = (influx = await ownInflux());
      // both hubs reach the cloud through one proxy: one URL, so one namespace in Redis
      const wire = (proxy = await startTcpProxy(Number(new URL(cloud.url).port)));
      const cloudUrl = `http://127.0.0.1:${wire.port}`;
      const namespace = hubNamespace(cloud, cloudUrl);
      const hub = async () => spawnHub({ listen: `127.0.0.1:${await freePort()}`, redisUrl: redis.url, influx: cloud, influxUrl: cloudUrl, args: ['--log-level', 'warn'] });

      // hub A's revocations stall in the proxy: its creates pass, its DELETEs never reach the cloud
      wire.hold('DELETE ');
      const a = await hub();
      device = leaseCaller(a.port);
      const n = 20;
      const leases: Lease[] = (await Promise.all(Array.from({ length: n }, () => device!.call({ action: 'create', options: { ttl: 300 } })))).map(leaseOf);
      const sentByA = () => new Set(wire.held().flatMap(deletedIds));
      await waitUntil('hub A to claim due leases and send their DELETEs', () => sentByA().size > 0, 30_000);
      const claimedByA = sentByA();
      expect((await a.kill('SIGKILL')).signal).to.equal('SIGKILL');
      await waitUntil('the killed hub’s connections to close (what they held is dropped)', () => wire.held().length === 0, 20_000);

      // nothing reached the cloud: every token still works, every lease is still stored; those A sent a DELETE
      // for are claimed (due again after their expiry: when the claim runs out)
      expect(served(cloud, DELETE_ROUTE)).to.equal(0);
      for (const l of leases) expect(await writeStatus(cloud, l.value), l.id).to.equal(204);
      expect(await withStorage(redis.url, namespace, (s) => s.count())).to.equal(n);
      await raw.connect();
      const scores = await raw.zrange(`tessera:{${namespaceTag(namespace)}}:due`, '0', '-1', 'WITHSCORES');
      const due = new Map<string, number>();
      for (let i = 0; i < scores.length; i += 2) due.set(scores[i]!, Number(scores[i + 1]));
      for (const l of leases.filter((l) => claimedByA.has(l.id))) expect(due.get(l.id), `${l.id} claimed`).to.be.above(Date.parse(l.expires));

      // hub B, started afterwards on the same Redis and cloud URL, revokes them all: the claimed ones once the claim runs out
      wire.release();
      const b = await hub();
      const passing = deletesPassing(wire);
      await waitUntil('hub B to revoke every lease', () => passing.seen().size === n, 60_000, 5);
      for (const l of leases) expect(passing.seen().get(l.id)!, `${l.id} revoked no sooner than it was due`).to.be.at.least(due.get(l.id)!);
      await waitUntil('no lease stored', async () => (await withStorage(redis.url, namespace, (s) => s.count())) === 0, 20_000);
      for (const l of leases) expect(await writeStatus(cloud, l.value), l.id).to.equal(401);
      // each exactly once: one DELETE per lease passed the proxy and reached the cloud, none of the killed hub's
      passing.seen();
      expect([...passing.count.values()].every((c) => c === 1), JSON.stringify([...passing.count])).to.equal(true);
      expect(served(cloud, DELETE_ROUTE), b.output()).to.equal(n);
      expect(served(cloud, POST_ROUTE)).to.equal(n);
      expect(b.alive()).to.equal(true);
    } finally {
      raw.disconnect();
      await redis.stop();
    }
  });
});

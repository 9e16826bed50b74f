import { expect } from 'chai';
import { influxdbV2 } from '@tessera/cloud-influxdb';
import { redisStorage } from '@tessera/storage-redis';
import { type RedisServer, skipWithoutRedis, startRedisServer, waitUntil } from '@tessera/testing';
import { type LeaseRecord, memoryStorage, type StorageService } from '@tessera/token-lease';
import { fakeClock, type HubFixture, startHub, writeWith } from './fixtures.js';
import { gatedCloud } from './gated-cloud.js';
import { flakyRevoke, withOverrides } from './overrides.js';

/** `inner`, counting the lease lookups that have come back (every revoke request begins with one). */
function watchedReads(inner: StorageService, seen: { reads: number }): StorageService {
  return withOverrides<StorageService>(inner, {
    get: async (...args: Parameters<StorageService['get']>): Promise<LeaseRecord | undefined> => {
      const record = await inner.get(...args);
      seen.reads++;
      return record;
    },
  });
}

/** Settles to true once `promise` has settled, for waiting on "this, or that". */
function settledFlag(promise: Promise<unknown>): { settled: boolean } {
  const flag = { settled: false };
  void promise.then(
    () => (flag.settled = true),
    () => (flag.settled = true),
  );
  return flag;
}

// Issue 12: while InfluxDB is down a revoke is answered `unavailable` and the hub
// schedules a retry; once it is back, the device's repeated revoke and that retry
// must not both send DELETE: one cloud revoke of the token after the outage.
for (const kind of ['memory', 'redis'] as const) {
  describe(`token_lease: a repeated revoke racing the scheduled retry after an outage (${kind} storage)`, function () {
    this.timeout(30_000);
    let redis: RedisServer | undefined;
    let fx: HubFixture | undefined;
    let gate: ReturnType<typeof gatedCloud> | undefined;
    before(async function () {
      if (kind === 'redis') redis = await skipWithoutRedis(this, () => startRedisServer());
    });
    after(async () => {
      await redis?.stop();
    });
    afterEach(async () => {
      // a failed test may leave a revoke at the gate, which stopping the hub waits for
      gate?.open();
      await fx?.close();
      fx = undefined;
    });

    /** A hub whose cloud fails the first revoke, then holds every revoke at a gate until `gate.open()`. */
    async function outageHub() {
      const { clock, tick } = fakeClock();
      const calls = { failures: 1, calls: 0 };
      const seen = { reads: 0 };
      const inner = kind === 'redis' ? redisStorage({ url: redis!.url }) : memoryStorage();
      fx = await startHub({
        clock,
        // the scheduler sleeps until the lease's expiry: the test runs the retry (runDue) when it wants it
        scheduler: { maxSleep: 3_600_000 },
        storage: watchedReads(inner, seen),
        cloud: (influx) => flakyRevoke((gate = gatedCloud(influxdbV2({ url: influx.url, token: influx.token, org: influx.org }), 'revoke')).cloud, calls),
      });
      const revokedEvents: string[] = [];
      fx.service.on('revoked', (e) => revokedEvents.push(e.id));
      const device = await fx.device();
      const lease = (await device.call({ action: 'create', options: { ttl: 600_000 } })).lease!;
      const first = await device.call({ action: 'revoke', token_id: lease.id });
      expect(first.code, 'revoke while the cloud is down').to.equal('unavailable');
      expect((await fx.service.pendingRevocations()).map((r) => r.id)).to.deep.equal([lease.id]);
      // the cloud is back; the retry (about 1 s ±50 % later) is due
      tick(2_000);
      return { fx, device, lease, gate: gate!, calls, seen, revokedEvents, tick };
    }

    it('the scheduled retry goes first: the repeated revoke waits for it, answers success, and sends no second delete', async () => {
      const { fx, device, lease, gate, calls, seen, revokedEvents } = await outageHub();
      const retry = fx.service.runDue();
      await waitUntil('the retry to reach the cloud', () => gate.state.inFlight === 1);
      const readsBefore = seen.reads;
      const repeated = device.call({ action: 'revoke', token_id: lease.id });
      // it has found its lease (and, within the same turn, joined the retry or, unfixed, sent its own delete)
      await waitUntil('the repeated revoke to find its lease', () => seen.reads > readsBefore || gate.state.inFlight === 2);
      gate.open();
      await retry;
      expect((await repeated).result).to.equal('success');
      expect(calls.calls, 'cloud revokes: the failed one, then one').to.equal(2);
      expect(gate.state.most).to.equal(1);
      expect(revokedEvents).to.deep.equal([lease.id]);
      expect(await fx.storage.get(lease.id)).to.equal(undefined);
      expect(await writeWith(fx.influx, lease.value)).to.equal(401);
    });

    it('the repeated revoke goes first: the scheduled retry finds the lease claimed and sends no second delete', async () => {
      const { fx, device, lease, gate, calls, revokedEvents, tick } = await outageHub();
      const repeated = device.call({ action: 'revoke', token_id: lease.id });
      await waitUntil('the repeated revoke to reach the cloud', () => gate.state.inFlight === 1);
      const retry = fx.service.runDue();
      const retried = settledFlag(retry);
      // fixed, the round ends at once (nothing it may claim); unfixed, its delete waits at the gate
      await waitUntil('the retry round to end or reach the cloud', () => retried.settled || gate.state.inFlight === 2);
      gate.open();
      await retry;
      expect((await repeated).result).to.equal('success');
      // past the end of the request's claim: nothing is left to retry
      tick(60_000);
      await fx.service.runDue();
      expect(calls.calls, 'cloud revokes: the failed one, then one').to.equal(2);
      expect(gate.state.most).to.equal(1);
      expect(revokedEvents).to.deep.equal([lease.id]);
      expect(await fx.service.pendingRevocations()).to.deep.equal([]);
      expect(await writeWith(fx.influx, lease.value)).to.equal(401);
    });
  });
}

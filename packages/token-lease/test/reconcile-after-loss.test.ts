// The sweep for orphans after storage lost its data: soon, not at the next periodic
// tick (it is the same reconcile(), so the orphan grace still spares young tokens:
// invariants.test.ts covers that). The loss is what a
// Redis restart without persistence looks like to the service: storage comes back
// empty and says so (the Redis side is tested in storage-redis and the hub tests).
import { once } from 'node:events';
import { expect } from 'chai';
import { writeStatus } from '@tessera/testing';
import { type LeaseRecord, memoryStorage, type StorageService } from '@tessera/token-lease';
import { fakeClock, type HubFixture, startHub } from './fixtures.js';

/** Memory storage that can lose everything at once, as a Redis restarted without persistence does. */
function losableStorage(): StorageService & { lose(): Promise<void> } {
  let inner = memoryStorage();
  let namespace: Parameters<StorageService['init']>[0] | undefined;
  const listeners = new Set<() => void>();
  return {
    name: 'memory',
    init: async (ns) => {
      namespace = ns;
      await inner.init(ns);
    },
    save: (r: LeaseRecord) => inner.save(r),
    update: (r: LeaseRecord) => inner.update(r),
    get: (id) => inner.get(id),
    remove: (id) => inner.remove(id),
    getAll: () => inner.getAll(),
    count: () => inner.count(),
    nextDue: () => inner.nextDue(),
    claimDue: (now, limit, claimMs) => inner.claimDue(now, limit, claimMs),
    claimLease: (id, now, claimMs) => inner.claimLease(id, now, claimMs),
    reschedule: (id, revocation) => inner.reschedule(id, revocation),
    close: () => inner.close(),
    onDataLoss(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    async lose() {
      await inner.close();
      inner = memoryStorage();
      await inner.init(namespace!);
      for (const listener of listeners) listener();
    },
  };
}

describe('LeaseService after storage lost its data', function () {
  this.timeout(20_000);
  let fx: HubFixture | undefined;
  afterEach(async () => {
    await fx?.close();
    fx = undefined;
  });

  it('sweeps a second later, not at the next periodic tick, then keeps the periodic sweep', async () => {
    const { clock, tick } = fakeClock();
    const storage = losableStorage();
    fx = await startHub({ clock, storage, orphanGrace: 30_000, reconcileEvery: 300_000 });
    const { service, influx } = fx;
    const owner = { owner: 'device', admin: false };
    const old = await Promise.all([1, 2, 3].map(() => service.create(owner, { ttl: 3_600_000 })));
    await tick(60_000); // the cloud's creation times are real; by the service's clock these are a minute old, past the grace

    await storage.lose();
    await tick(999);
    expect(service.stats().reconciliations, 'not at once: the signal may come twice').to.equal(0);
    const swept = once(service, 'reconciled');
    await tick(1);
    const [{ revoked }] = (await swept) as [{ revoked: number }];
    expect(revoked).to.equal(3);
    for (const lease of old) expect(await writeStatus(influx, lease.value)).to.equal(401);

    // the periodic sweep goes on, counted from the last one
    await tick(299_999);
    expect(service.stats().reconciliations).to.equal(1);
    const periodic = once(service, 'reconciled');
    await tick(1);
    await periodic;
    expect(service.stats()).to.deep.include({ reconciliations: 2, orphansRevoked: 3 });
  });
});

import { expect } from 'chai';
import {
  type CloudService,
  memoryStorage,
  type StorageService,
  StorageUnavailableError,
} from '@tessera/token-lease';
import { influxdbV2 } from '@tessera/cloud-influxdb';
import { waitUntil } from '@tessera/testing';
import { fakeClock, type HubFixture, startHub, writeWith } from './fixtures.js';
import { flakyRevoke, withOverrides } from './overrides.js';

/** A storage whose save fails while `failing` is set. */
function flakyStorage(inner: StorageService, state: { failing: boolean }): StorageService {
  return withOverrides<StorageService>(inner, {
    save: async (...args: Parameters<StorageService['save']>) => {
      if (state.failing) throw new StorageUnavailableError('storage unavailable: test says no');
      return inner.save(...args);
    },
  });
}

describe('token_lease invariants', () => {
  let fx: HubFixture;
  afterEach(async () => {
    await fx?.close();
  });

  it('undoes the cloud create when the save fails: the caller gets a failure, no token is left', async () => {
    const state = { failing: true };
    fx = await startHub({ storage: flakyStorage(memoryStorage(), state) });
    const device = await fx.device();
    const before = (await fx.cloud.getAll()).filter((t) => t.managed).length;
    const r = await device.call({ action: 'create' });
    expect(r.result).to.equal('failure');
    expect(r.code).to.equal('unavailable');
    expect(r.message).to.match(/storage unavailable/);
    expect((await fx.cloud.getAll()).filter((t) => t.managed).length).to.equal(before);
    state.failing = false;
    expect((await device.call({ action: 'create' })).result).to.equal('success');
  });

  it('a token whose rollback also failed is caught by the next periodic reconciliation', async () => {
    const { clock, tick } = fakeClock();
    const storageState = { failing: true };
    const cloudState = { failures: 1, calls: 0 };
    fx = await startHub({
      clock,
      reconcileEvery: 60_000,
      storage: flakyStorage(memoryStorage(), storageState),
      cloud: (influx) => flakyRevoke(influxdbV2({ url: influx.url, token: influx.token, org: influx.org }), cloudState),
    });
    const device = await fx.device();
    const before = new Set((await fx.cloud.getAll()).map((t) => t.id));
    expect((await device.call({ action: 'create' })).result).to.equal('failure');
    const stranded = (await fx.cloud.getAll()).filter((t) => t.managed && !before.has(t.id));
    expect(stranded).to.have.length(1);
    storageState.failing = false;
    const swept = waitUntil('the orphan to be revoked', () => fx.service.stats().orphansRevoked === 1);
    tick(60_000);
    await swept;
    expect((await fx.cloud.getAll()).filter((t) => t.id === stranded[0]!.id)).to.deep.equal([]);
  });

  it('revokes at reconciliation a token that carries our marker but has no lease', async () => {
    fx = await startHub();
    const device = await fx.device();
    const kept = (await device.call({ action: 'create' })).lease!;
    const now = Date.now();
    const orphan = await fx.cloud.create({ ttl: 60_000, issued: new Date(now), expires: new Date(now + 60_000), options: {} });
    expect(await writeWith(fx.influx, orphan.value)).to.equal(204);
    expect(await fx.service.reconcile()).to.equal(1);
    expect(await writeWith(fx.influx, orphan.value)).to.equal(401);
    expect(await writeWith(fx.influx, kept.value)).to.equal(204);
  });

  it('gives a young token without a lease a grace period (another hub may be about to save it), then revokes it if still orphaned', async () => {
    const { clock, tick } = fakeClock();
    fx = await startHub({ clock, orphanGrace: 30_000 });
    const now = Date.now();
    const orphan = await fx.cloud.create({ ttl: 600_000, issued: new Date(now), expires: new Date(now + 600_000), options: {} });
    const adopted = await fx.cloud.create({ ttl: 600_000, issued: new Date(now), expires: new Date(now + 600_000), options: {} });
    expect(await fx.service.reconcile()).to.equal(0);
    expect(await writeWith(fx.influx, orphan.value)).to.equal(204);
    // "another hub" saves its lease within the grace period
    await fx.storage.save({ ...adopted, owner: 'other-hub', maxExpires: adopted.expires });
    const revoked = waitUntil('the orphan to be revoked', () => fx.service.stats().orphansRevoked === 1);
    tick(29_000);
    expect(await writeWith(fx.influx, orphan.value)).to.equal(204);
    tick(2_000); // the fake clock started a little before the cloud stamped the token
    await revoked;
    expect(await writeWith(fx.influx, orphan.value)).to.equal(401);
    expect(await writeWith(fx.influx, adopted.value)).to.equal(204);
  });

  it('revokes a young orphan once, however many sweeps find it within its grace (sweeping more often than the grace)', async () => {
    const { clock, tick } = fakeClock();
    fx = await startHub({ clock, orphanGrace: 30_000 });
    const now = Date.now();
    const orphan = await fx.cloud.create({ ttl: 600_000, issued: new Date(now), expires: new Date(now + 600_000), options: {} });
    for (let i = 0; i < 3; i++) {
      expect(await fx.service.reconcile()).to.equal(0);
      tick(5_000);
    }
    const revoked = waitUntil('the orphan to be revoked', () => fx.service.stats().orphansRevoked === 1);
    tick(20_000);
    await revoked;
    expect(await writeWith(fx.influx, orphan.value)).to.equal(401);
    expect(fx.influx.stats()['DELETE /api/v2/authorizations/{authID}']).to.equal(1);
    expect(fx.service.stats().orphansRevoked).to.equal(1);
  });

  it('does not revoke again, nor count as an orphan, a young token that got its lease and was revoked within the grace', async () => {
    const { clock, tick } = fakeClock();
    fx = await startHub({ clock, orphanGrace: 30_000 });
    const now = Date.now();
    const token = await fx.cloud.create({ ttl: 600_000, issued: new Date(now), expires: new Date(now + 600_000), options: {} });
    expect(await fx.service.reconcile()).to.equal(0);
    // "another hub" saves its lease, then revokes it (cloud first, then storage), all within the grace
    await fx.storage.save({ ...token, owner: 'other-hub', maxExpires: token.expires });
    await fx.cloud.revoke(token.id);
    await fx.storage.remove(token.id);
    const served = (route: string) => fx.influx.stats()[`${route} /api/v2/authorizations/{authID}`] ?? 0;
    const looks = served('GET');
    tick(31_000);
    // the look again either asks the cloud whether the token is still there, or (wrongly) deletes it
    await waitUntil('the look again', () => served('GET') > looks || served('DELETE') > 1);
    expect(served('DELETE')).to.equal(1);
    expect(fx.service.stats().orphansRevoked).to.equal(0);
  });

  it('leaves alone tokens without our marker', async () => {
    fx = await startHub();
    const other = influxdbV2({ url: fx.influx.url, token: fx.influx.token, org: fx.influx.org, marker: 'someone-else' });
    await other.init();
    const now = Date.now();
    const foreign = await other.create({ ttl: 60_000, issued: new Date(now), expires: new Date(now + 60_000), options: {} });
    expect(await fx.service.reconcile()).to.equal(0);
    expect(await writeWith(fx.influx, foreign.value)).to.equal(204);
  });

  it('retries a failed revocation with back-off, keeps the lease visible meanwhile, and removes it only once the token is gone', async () => {
    const { clock, tick } = fakeClock();
    const state = { failures: 2, calls: 0 };
    fx = await startHub({ clock, cloud: (influx) => flakyRevoke(influxdbV2({ url: influx.url, token: influx.token, org: influx.org }), state) });
    const device = await fx.device();
    const lease = (await device.call({ action: 'create', options: { ttl: 5_000 } })).lease!;
    tick(5_000);
    await fx.service.runDue();
    let pending = await fx.service.pendingRevocations();
    expect(pending.map((p) => [p.id, p.revocation?.attempts])).to.deep.equal([[lease.id, 1]]);
    expect(pending[0]!.revocation!.lastError).to.match(/cloud unavailable/);
    expect(await writeWith(fx.influx, lease.value)).to.equal(204);
    // first retry after about 1 s (±50 %), second after about 2 s
    tick(1_500);
    await fx.service.runDue();
    pending = await fx.service.pendingRevocations();
    expect(pending[0]?.revocation?.attempts).to.equal(2);
    tick(3_000);
    await fx.service.runDue();
    expect(await fx.service.pendingRevocations()).to.deep.equal([]);
    expect(await fx.storage.get(lease.id)).to.equal(undefined);
    expect(await writeWith(fx.influx, lease.value)).to.equal(401);
    expect(state.calls).to.equal(3);
  });

  it('a revoke request that fails in the cloud answers a failure and is retried until done', async () => {
    const { clock, tick } = fakeClock();
    const state = { failures: 1, calls: 0 };
    fx = await startHub({ clock, cloud: (influx) => flakyRevoke(influxdbV2({ url: influx.url, token: influx.token, org: influx.org }), state) });
    const device = await fx.device();
    const lease = (await device.call({ action: 'create', options: { ttl: 600_000 } })).lease!;
    const r = await device.call({ action: 'revoke', token_id: lease.id });
    expect(r.result).to.equal('failure');
    expect(r.code).to.equal('unavailable');
    expect(r.message).to.match(/cloud unavailable.*retries/);
    tick(2_000);
    await fx.service.runDue();
    expect(await writeWith(fx.influx, lease.value)).to.equal(401);
    expect(await fx.storage.get(lease.id)).to.equal(undefined);
  });

  it('revokes at start what fell due while no hub was running', async () => {
    const { clock, tick } = fakeClock();
    const storage = memoryStorage();
    fx = await startHub({ clock, storage: withOverrides<StorageService>(storage, { close: async () => undefined }) });
    const device = await fx.device();
    const lease = (await device.call({ action: 'create', options: { ttl: 5_000 } })).lease!;
    const influx = fx.influx;
    await fx.service.stop();
    tick(10_000);
    // a second service on the same storage and cloud: start-up revokes the overdue lease at once
    const second = await startHub({ clock, storage, influx });
    await second.service.runDue();
    expect(await writeWith(influx, lease.value)).to.equal(401);
    expect(await storage.get(lease.id)).to.equal(undefined);
    await second.close();
  });
});

describe('token_lease: renew racing a revoke', () => {
  it('a renewal whose lease was revoked while the cloud answered fails and does not bring the lease back', async () => {
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    let entered!: () => void;
    const renewing = new Promise<void>((r) => (entered = r));
    const fx = await startHub({
      cloud: (influx) => {
        const inner = influxdbV2({ url: influx.url, token: influx.token, org: influx.org });
        return new Proxy(inner, {
          get(target, key) {
            if (key === 'renew') {
              return async (...args: Parameters<CloudService['renew']>) => {
                await target.renew(...args);
                // the cloud has answered; the revoke lands before the service saves the renewal
                entered();
                await gate;
              };
            }
            const value: unknown = Reflect.get(target, key);
            return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
          },
        });
      },
    });
    try {
      const device = await fx.device();
      const lease = (await device.call({ action: 'create' })).lease!;
      const renewal = device.call({ action: 'renew', token_id: lease.id });
      await renewing;
      expect((await device.call({ action: 'revoke', token_id: lease.id })).result).to.equal('success');
      release();
      const r = await renewal;
      expect(r.result).to.equal('failure');
      expect(r.message).to.match(/lease not found/);
      expect(await fx.storage.get(lease.id)).to.equal(undefined);
      expect(await writeWith(fx.influx, lease.value)).to.equal(401);
    } finally {
      await fx.close();
    }
  });
});

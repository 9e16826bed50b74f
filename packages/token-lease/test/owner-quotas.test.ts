// Bounded owners: per-owner active leases (creates under way counted), create rate
// (fake clock), bounded memory for the rate windows, and quota_exceeded answers to a
// raw ws + msgpackr peer.
import { expect } from 'chai';
import { influxdbV2 } from '@tessera/cloud-influxdb';
import { ActiveLeases, CreateRateLimiter, LeaseService, memoryStorage, QuotaExceededError, ttlPolicy } from '@tessera/token-lease';
import { fakeClock, startHub, type HubFixture } from './fixtures.js';
import { rawPeers } from './raw-lease-client.js';

const POST_AUTH = 'POST /api/v2/authorizations';

describe('owner quotas', () => {
  let fx: HubFixture;
  const { peer, closeAll } = rawPeers(() => fx.port);
  afterEach(async () => {
    closeAll();
    await fx?.close();
  });

  it('holds the active-lease quota across concurrent creates: 20 at once, exactly 5 leases, the rest quota_exceeded', async () => {
    fx = await startHub({ quotas: { maxActiveLeases: 5, createsPerMinute: 0 } });
    const [a, b] = [await peer(), await peer()];
    const answers = await Promise.all(Array.from({ length: 20 }, (_, i) => a.call({ action: 'create', request_id: `c${i}` })));
    const created = answers.filter((r) => r.result === 'success');
    const refused = answers.filter((r) => r.result === 'failure');
    expect(created).to.have.length(5);
    expect(refused).to.have.length(15);
    for (const r of refused) expect(r).to.include({ code: 'quota_exceeded', message: 'quota exceeded: at most 5 active leases per caller' });
    expect(fx.influx.stats()[POST_AUTH], 'the cloud saw only the creates within the quota').to.equal(5);
    // another owner has a quota of its own
    expect((await b.call({ action: 'create' })).result).to.equal('success');
    // a revoked lease frees its place
    expect((await a.call({ action: 'revoke', token_id: created[0]!.lease!.id })).result).to.equal('success');
    expect((await a.call({ action: 'create' })).result).to.equal('success');
    expect((await a.call({ action: 'create' })).code).to.equal('quota_exceeded');
  });

  it('a failed create gives its place back', async () => {
    fx = await startHub({ quotas: { maxActiveLeases: 1, createsPerMinute: 0 } });
    const a = await peer();
    expect((await a.call({ action: 'create', options: { permissions: [{ action: 'write', bucket: 'nope' }] } })).result).to.equal('failure');
    expect((await a.call({ action: 'create', options: { ttl: 1 } })).code).to.equal('invalid_request');
    expect((await a.call({ action: 'create' })).result).to.equal('success');
  });

  it('counts what storage holds from other hubs (learned at reconciliation), and notices what they revoked', async () => {
    const storage = memoryStorage();
    fx = await startHub({ storage });
    const cloud = influxdbV2({ url: fx.influx.url, token: fx.influx.token, org: fx.influx.org });
    // a second hub on the same storage and cloud, with its own quota bookkeeping
    const other = new LeaseService({ cloud, storage, policy: ttlPolicy(), reconcileEvery: 0, orphanGrace: 0, quotas: { maxActiveLeases: 3 } });
    await other.start();
    try {
      const device = { owner: 'device-7', admin: false };
      const leases = await Promise.all([1, 2, 3].map(() => fx.service.create(device, {})));
      await other.reconcile();
      const err = await other.create(device, {}).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(err).to.be.instanceOf(QuotaExceededError);
      // revoked through the first hub: the second hears nothing, but looks again at the limit
      await fx.service.revoke(device, leases[0]!.id);
      expect((await other.create(device, {})).id).to.be.a('string');
    } finally {
      await other.stop();
    }
  });

  it('forgets, at the next reconciliation, leases that storage no longer holds (another hub revoked them), but not one committed while it read', async () => {
    // owners are connections, never seen again: nothing but a reconciliation can drop their leases from the count
    const active = new ActiveLeases(10, () => Promise.resolve(true));
    active.learn(Array.from({ length: 1_000 }, (_, i) => ({ id: `other-hub-${i}`, owner: `ws.${i}.gone` })));
    expect(active.count('ws.7.gone')).to.equal(1);
    const mine = await active.reserve('ws.mine');
    mine.commit('mine-1'); // saved to storage, perhaps after the read below began
    active.learn([]); // the other hub revoked all of its leases; the read missed mine-1
    expect(active.count('ws.7.gone'), 'a lease storage no longer holds').to.equal(0);
    expect(active.count('ws.mine'), 'a lease committed since the last read').to.equal(1);
    active.learn([{ id: 'mine-1', owner: 'ws.mine' }]);
    expect(active.count('ws.mine')).to.equal(1);
    active.learn([]);
    expect(active.count('ws.mine'), 'gone from storage, and not new').to.equal(0);
  });

  it('limits the create rate per owner as a token bucket (fake clock); admins are exempt', async () => {
    const { clock, tick } = fakeClock();
    fx = await startHub({ clock, quotas: { maxActiveLeases: 0, createsPerMinute: 3 } });
    const [a, b] = [await peer(), await peer()];
    for (let i = 0; i < 3; i++) expect((await a.call({ action: 'create' })).result).to.equal('success');
    const refused = await a.call({ action: 'create', request_id: 'fourth' });
    expect(refused).to.deep.equal({
      result: 'failure',
      code: 'quota_exceeded',
      message: 'quota exceeded: at most 3 creates per minute per caller; the next one is possible in 20000 ms',
      request_id: 'fourth',
    });
    expect((await b.call({ action: 'create' })).result, 'another owner is not limited by the first').to.equal('success');
    tick(19_999);
    expect((await a.call({ action: 'create' })).code).to.equal('quota_exceeded');
    tick(1);
    expect((await a.call({ action: 'create' })).result).to.equal('success');
    expect((await a.call({ action: 'create' })).code).to.equal('quota_exceeded');
    const admin = { owner: 'ops', admin: true };
    for (let i = 0; i < 5; i++) await fx.service.create(admin, {});
  });

  it('remembers the rate of a bounded number of owners and forgets idle ones (fake clock)', () => {
    const { clock, tick } = fakeClock();
    const limiter = new CreateRateLimiter(4, clock, 1_000);
    const exhaust = (owner: string) => {
      for (let i = 0; i < 4; i++) limiter.take(owner);
    };
    for (let i = 0; i < 10_000; i++) exhaust(`owner-${i}`);
    expect(limiter.size).to.equal(1_000);
    tick(30_000);
    exhaust('late');
    expect(limiter.size, 'half-refilled owners are still remembered').to.equal(1_000);
    tick(30_000);
    limiter.take('later');
    // everyone before `late` has refilled: the same as never seen
    expect(limiter.size).to.equal(2);
    // late has refilled half: two creates, not four
    limiter.take('late');
    limiter.take('late');
    expect(() => limiter.take('late')).to.throw(QuotaExceededError);
    for (let i = 0; i < 3; i++) limiter.take('busy');
    limiter.take('busy');
    expect(() => limiter.take('busy')).to.throw(QuotaExceededError);
  });
});

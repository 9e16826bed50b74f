import { expect } from 'chai';
import { fakeClock, type HubFixture, startHub, writeWith } from './fixtures.js';

describe('token_lease over WebSocket (memory storage, influxdb-v2 on influxdb-local)', () => {
  let fx: HubFixture;
  afterEach(async () => {
    await fx?.close();
  });

  it('create → get → renew → revoke, with a token that writes until it is revoked', async () => {
    fx = await startHub({ policy: { defaultTtl: 60_000, maxTtl: 600_000 } });
    const device = await fx.device();
    const created = await device.call({ action: 'create', options: { ttl: 30_000 }, request_id: 'r1' });
    expect(created.result).to.equal('success');
    expect(created.request_id).to.equal('r1');
    const lease = created.lease!;
    expect(lease.id).to.match(/^[0-9a-f]{16}$/);
    expect(lease.ttl).to.equal(30_000);
    expect(Date.parse(lease.expires) - Date.parse(lease.issued)).to.equal(30_000);
    expect(await writeWith(fx.influx, lease.value)).to.equal(204);

    const got = await device.call({ action: 'get', token_id: lease.id });
    expect(got.lease).to.deep.equal(lease);

    const renewed = await device.call({ action: 'renew', token_id: lease.id, ttl: 120_000 });
    expect(renewed.result).to.equal('success');
    expect(Date.parse(renewed.lease!.expires)).to.be.greaterThan(Date.parse(lease.expires));

    const listed = await device.call({ action: 'list' });
    expect(listed.leases!.map((l) => l.id)).to.deep.equal([lease.id]);

    const revoked = await device.call({ action: 'revoke', token_id: lease.id });
    expect(revoked).to.deep.equal({ result: 'success' });
    expect(await writeWith(fx.influx, lease.value)).to.equal(401);
    const gone = await device.call({ action: 'get', token_id: lease.id });
    expect(gone.result).to.equal('failure');
    expect(gone.code).to.equal('not_found');
    expect(gone.message).to.match(/lease not found/);
  });

  it('revokes a lease at its expiry: the token stops working (fake clock)', async () => {
    const { clock, tick } = fakeClock();
    fx = await startHub({ clock, policy: { minTtl: 1_000 } });
    const device = await fx.device();
    const short = (await device.call({ action: 'create', options: { ttl: 5_000 } })).lease!;
    const long = (await device.call({ action: 'create', options: { ttl: 60_000 } })).lease!;
    expect(await writeWith(fx.influx, short.value)).to.equal(204);
    tick(5_000);
    await fx.service.runDue();
    expect(await writeWith(fx.influx, short.value)).to.equal(401);
    expect(await writeWith(fx.influx, long.value)).to.equal(204);
    expect((await device.call({ action: 'list' })).leases!.map((l) => l.id)).to.deep.equal([long.id]);
    expect(fx.service.stats().lateness.count).to.equal(1);
  });

  it('renews only up to the maximum TTL counted from issue', async () => {
    const { clock, tick } = fakeClock();
    fx = await startHub({ clock, policy: { defaultTtl: 10_000, maxTtl: 15_000 } });
    const device = await fx.device();
    const lease = (await device.call({ action: 'create' })).lease!;
    tick(8_000);
    const renewed = (await device.call({ action: 'renew', token_id: lease.id, ttl: 10_000 })).lease!;
    expect(Date.parse(renewed.expires)).to.equal(Date.parse(lease.issued) + 15_000);
    tick(7_000);
    const refused = await device.call({ action: 'renew', token_id: lease.id });
    expect(refused.result).to.equal('failure');
  });

  it('refuses to renew a lease that is not renewable', async () => {
    fx = await startHub({ policy: { renewable: false } });
    const device = await fx.device();
    const lease = (await device.call({ action: 'create' })).lease!;
    expect(lease.renewable).to.equal(false);
    const r = await device.call({ action: 'renew', token_id: lease.id });
    expect(r.result).to.equal('failure');
    expect(r.code).to.equal('invalid_request');
    expect(r.message).to.match(/not renewable/);
  });

  it('answers every bad request with a failure, a code and a message, and keeps serving', async () => {
    fx = await startHub({ policy: { minTtl: 1_000, maxTtl: 3_600_000 } });
    const device = await fx.device();
    const cases: [string | object, RegExp, string][] = [
      ['{not json', /invalid JSON/, 'invalid_request'],
      ['[1,2]', /JSON object/, 'invalid_request'],
      ['"create"', /JSON object/, 'invalid_request'],
      [{ action: 'explode', request_id: 'x1' }, /unknown action "explode"/, 'invalid_request'],
      [{ request_id: 'x2' }, /unknown action missing/, 'invalid_request'],
      [{ action: 42 }, /unknown action/, 'invalid_request'],
      [{ action: 'create', options: { ttl: 1e20 } }, /ttl/, 'invalid_request'],
      [{ action: 'create', options: { ttl: -5 } }, /ttl must be positive/, 'invalid_request'],
      [{ action: 'create', options: { ttl: 'soon' } }, /ttl must be a number/, 'invalid_request'],
      [{ action: 'create', options: { ttl: 10 } }, /below the minimum/, 'invalid_request'],
      [{ action: 'create', options: { ttl: 7_200_000 } }, /above the maximum/, 'invalid_request'],
      [{ action: 'create', options: 'all' }, /options must be an object/, 'invalid_request'],
      [{ action: 'create', options: { permissions: 'all' } }, /permissions/, 'invalid_request'],
      [{ action: 'get' }, /token_id/, 'invalid_request'],
      [{ action: 'revoke', token_id: 7 }, /token_id must be a string/, 'invalid_request'],
      [{ action: 'renew', token_id: 'abc', ttl: 1.5 }, /whole number/, 'invalid_request'],
      [{ action: 'get', token_id: '0000000000000000' }, /lease not found/, 'not_found'],
    ];
    for (const [request, expected, code] of cases) {
      const r = await device.call(request);
      expect(r.result, JSON.stringify(request)).to.equal('failure');
      expect(r.code, JSON.stringify(request)).to.equal(code);
      expect(r.message, JSON.stringify(request)).to.match(expected);
    }
    expect((await device.call({ action: 'explode', request_id: 'x1' })).request_id).to.equal('x1');
    const ok = await device.call({ action: 'create', options: { ttl: 5_000 } });
    expect(ok.result).to.equal('success');
    expect(fx.hub.stats().handlerErrors).to.equal(0);
  });

  it("shows each caller only its own leases, and another's is not_found word for word; an admin sees all", async () => {
    fx = await startHub({ worker: { owners: 'connection' } });
    const a = await fx.device();
    const b = await fx.device();
    const leaseA = (await a.call({ action: 'create' })).lease!;
    const leaseB = (await b.call({ action: 'create' })).lease!;
    expect((await a.call({ action: 'list' })).leases!.map((l) => l.id)).to.deep.equal([leaseA.id]);
    // an id that exists but is A's, and one that never existed, in the same format: B cannot tell them apart
    const missing = leaseA.id.replace(/^./, (c) => (c === '0' ? '1' : '0'));
    for (const action of ['get', 'revoke', 'renew'] as const) {
      const stolen = await b.call({ action, token_id: leaseA.id });
      const absent = await b.call({ action, token_id: missing });
      expect(stolen, action).to.deep.equal({ result: 'failure', code: 'not_found', message: `lease not found: ${leaseA.id}` });
      expect(absent, action).to.deep.equal({ result: 'failure', code: 'not_found', message: `lease not found: ${missing}` });
    }
    expect(await writeWith(fx.influx, leaseA.value)).to.equal(204);
    const all = await fx.service.list({ owner: 'ops', admin: true });
    expect(all.map((l) => l.id).sort()).to.deep.equal([leaseA.id, leaseB.id].sort());
  });

  it('answers concurrent list requests from one read of storage', async () => {
    fx = await startHub();
    const device = await fx.device();
    for (let i = 0; i < 5; i++) await device.call({ action: 'create' });
    let reads = 0;
    const getAll = fx.storage.getAll.bind(fx.storage);
    fx.storage.getAll = async () => {
      reads++;
      return getAll();
    };
    const caller = { owner: 'ops', admin: true };
    const answers = await Promise.all(Array.from({ length: 50 }, () => fx.service.list(caller)));
    for (const a of answers) expect(a).to.have.length(5);
    expect(reads).to.equal(1);
    expect((await device.call({ action: 'list' })).leases).to.have.length(5);
    expect(reads).to.equal(2);
  });

  it('never puts a token value in a response message or a failure', async () => {
    fx = await startHub();
    const device = await fx.device();
    const lease = (await device.call({ action: 'create' })).lease!;
    const r = await device.call({ action: 'get', token_id: lease.value });
    expect(r.result).to.equal('failure');
    expect(r.message).to.not.include(lease.value.slice(8, 40));
  });
});

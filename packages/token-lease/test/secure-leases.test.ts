// A secure hub (docs/protocol.md §4): the caller is the peer identity of the secure
// channel a request came through, and must be a member; its identifier owns its
// leases on whatever connection it comes back, and on every hub of one storage.
import { expect } from 'chai';
import { influxdbV2 } from '@tessera/cloud-influxdb';
import { Ed25519Identity } from '@tessera/secure-channel';
import { redisStorage } from '@tessera/storage-redis';
import { type RedisServer, startRedisServer, waitUntil } from '@tessera/testing';
import { startInfluxdbLocal, type InfluxdbLocal } from '@tessera/influxdb-local';
import { writeWith } from './fixtures.js';
import { gatedCloud } from './gated-cloud.js';
import { rawPeers } from './raw-lease-client.js';
import { closeDevices, type SecureHub, secureDevice, type SecureDevice, startSecureHub } from './secure-hub.js';

const POST_AUTH = 'POST /api/v2/authorizations';
const DEVICE = { attributes: { role: 'device' }, admin: false };

describe('token_lease on a secure hub: leases owned by identity (secure channels over WebSocket)', function () {
  this.timeout(30_000);
  let hub: SecureHub;
  const raw = rawPeers(() => hub.fx.port);
  afterEach(async () => {
    raw.closeAll();
    await closeDevices();
    await hub?.close();
  });

  /** A device of a new identity with a channel to the hub, a member with `standing` unless it is null. */
  async function member(standing: typeof DEVICE | null = DEVICE): Promise<SecureDevice> {
    const device = await secureDevice(hub.fx.port, hub.identifier);
    if (standing !== null) hub.members.set(device.identifier, standing);
    return device;
  }

  it('refuses a plaintext request with not_allowed saying a secure channel is required, before it is queued or anything is asked or created', async () => {
    hub = await startSecureHub();
    const peer = await raw.peer();
    const requests: [object | string, string | undefined][] = [
      [{ action: 'create', request_id: 'r1' }, 'r1'],
      [{ action: 'list' }, undefined],
      [{ action: 'get', token_id: '0000000000000000', request_id: 'r2' }, 'r2'],
      ['{not json', undefined],
      [{ action: 'explode', request_id: 'r3' }, 'r3'],
    ];
    for (const [request, requestId] of requests) {
      const r = await peer.call(request);
      expect(r, JSON.stringify(request)).to.deep.equal({
        result: 'failure',
        code: 'not_allowed',
        message: 'not allowed: a secure channel is required: this hub takes lease requests only through a secure channel (docs/protocol.md §5)',
        ...(requestId === undefined ? {} : { request_id: requestId }),
      });
    }
    // a device node of the project, without a channel, is refused alike
    const plain = await hub.fx.device();
    expect(await plain.call({ action: 'create' })).to.include({ result: 'failure', code: 'not_allowed' });
    expect(hub.lookups(), 'membership was never asked').to.equal(0);
    expect(hub.fx.influx.stats()[POST_AUTH] ?? 0, 'no token was created').to.equal(0);
    expect(hub.fx.worker.stats()).to.deep.equal({ running: 0, queued: 0, keys: 0 });
  });

  it('refuses an identity that is not a member, and a member that is removed from the next request on', async () => {
    hub = await startSecureHub();
    const device = await member(null);
    const refused = await device.call({ action: 'create', request_id: 'c1' });
    expect(refused).to.deep.equal({ result: 'failure', code: 'not_allowed', message: 'not allowed: this identity is not a member of this hub', request_id: 'c1' });
    expect(hub.fx.influx.stats()[POST_AUTH] ?? 0).to.equal(0);

    hub.members.set(device.identifier, DEVICE);
    const created = await device.call({ action: 'create' });
    expect(created.result, JSON.stringify(created)).to.equal('success');
    expect(await writeWith(hub.fx.influx, created.lease!.value)).to.equal(204);

    hub.members.delete(device.identifier);
    for (const request of [{ action: 'list' }, { action: 'get', token_id: created.lease!.id }, { action: 'create' }]) {
      expect(await device.call(request), request.action).to.include({ result: 'failure', code: 'not_allowed' });
    }
  });

  it('answers unavailable while membership cannot be checked, without what the store said, and serves again after', async () => {
    hub = await startSecureHub();
    const device = await member();
    hub.storeDown = true;
    const r = await device.call({ action: 'create', request_id: 'd' });
    expect(r).to.deep.equal({
      result: 'failure',
      code: 'unavailable',
      message: "membership unavailable: this caller's membership could not be checked (Error); try again later",
      request_id: 'd',
    });
    hub.storeDown = false;
    expect((await device.call({ action: 'create' })).result).to.equal('success');
  });

  it("answers non-members before anything waits: a flood of throwaway identities does not make a member's request fail", async () => {
    let gate!: ReturnType<typeof gatedCloud>;
    hub = await startSecureHub({
      cloud: (influx) => (gate = gatedCloud(influxdbV2({ url: influx.url, token: influx.token, org: influx.org }))).cloud,
      worker: { concurrency: 1, queue: 4 },
    });
    const [first, second] = [await member(), await member()];
    // the one slot is taken: the first member's create waits in the cloud
    const stuck = first.call({ action: 'create' });
    await waitUntil('a create in the cloud', () => gate.state.inFlight === 1);
    // identities cost nothing: 12 of them, more than the queue holds, each with a request
    const strangers = await Promise.all(Array.from({ length: 12 }, () => member(null)));
    let answered = 0;
    const fromStrangers = strangers.map((s, i) => s.call({ action: 'create', request_id: `s${i}` }).finally(() => answered++));
    await waitUntil('every stranger answered or waiting', () => answered + hub.fx.worker.stats().queued === strangers.length);
    const strangersQueued = hub.fx.worker.stats().queued;
    let secondAnswered = false;
    const waiting = second.call({ action: 'create' }).finally(() => (secondAnswered = true));
    await waitUntil("the second member's request answered or queued", () => secondAnswered || hub.fx.worker.stats().queued === 1);
    gate.open();
    expect((await stuck).result).to.equal('success');
    const served = await waiting;
    expect(served.result, JSON.stringify(served)).to.equal('success');
    expect(strangersQueued, 'no stranger waited in the queue').to.equal(0);
    (await Promise.all(fromStrangers)).forEach((r, i) =>
      expect(r, `stranger ${i}`).to.deep.equal({ result: 'failure', code: 'not_allowed', message: 'not allowed: this identity is not a member of this hub', request_id: `s${i}` }),
    );
  });

  it('bounds the lookups in flight: one request past them is answered unavailable at once, and served after', async () => {
    hub = await startSecureHub({ worker: { lookups: 2 } });
    const [a, b, c] = [await member(), await member(), await member()];
    const release = hub.holdLookups();
    const held = [a.call({ action: 'list', request_id: 'l1' }), b.call({ action: 'list', request_id: 'l2' })];
    await waitUntil('two lookups under way', () => hub.lookups() === 2);
    expect(await c.call({ action: 'list', request_id: 'l3' })).to.deep.equal({
      result: 'failure',
      code: 'unavailable',
      message: 'hub unavailable: too many requests waiting; try again later',
      request_id: 'l3',
    });
    expect(hub.lookups(), 'the one past the budget was not looked up').to.equal(2);
    release();
    for (const r of await Promise.all(held)) expect(r.result).to.equal('success');
    expect((await c.call({ action: 'list' })).result).to.equal('success');
  });

  it('a request that waited in the queue while its member was removed is refused when its turn comes, and creates nothing', async () => {
    let gate!: ReturnType<typeof gatedCloud>;
    hub = await startSecureHub({
      cloud: (influx) => (gate = gatedCloud(influxdbV2({ url: influx.url, token: influx.token, org: influx.org }))).cloud,
      worker: { ownerConcurrency: 1 },
    });
    const thief = await member();
    const first = thief.call({ action: 'create' });
    await waitUntil('its first create in the cloud', () => gate.state.inFlight === 1);
    const queued = thief.call({ action: 'create', request_id: 'queued' });
    await waitUntil('its second create queued behind the first', () => hub.fx.worker.stats().queued === 1);
    hub.members.delete(thief.identifier);
    gate.open();
    await first;
    expect(await queued).to.deep.include({ result: 'failure', code: 'not_allowed', request_id: 'queued' });
    expect(hub.fx.service.stats().created).to.equal(1);
  });

  it('one identity’s requests share one lookup: many of them cannot take the lookups members need', async () => {
    hub = await startSecureHub({ worker: { lookups: 2 } });
    const [greedy, other] = [await member(), await member()];
    const release = hub.holdLookups();
    const burst = Array.from({ length: 20 }, (_, i) => greedy.call({ action: 'list', request_id: `g${i}` }));
    await waitUntil('the greedy identity’s lookup under way', () => hub.lookups() === 1);
    const others = other.call({ action: 'list' });
    await waitUntil('the other member’s lookup under way too', () => hub.lookups() === 2);
    release();
    expect((await others).result).to.equal('success');
    for (const r of await Promise.all(burst)) expect(r.result).to.equal('success');
  });

  it("shows a member only its own leases: another's is not_found word for word, its list is empty; an admin sees and revokes all", async () => {
    hub = await startSecureHub();
    const a = await member();
    const b = await member();
    const admin = await member({ attributes: { role: 'admin' }, admin: true });
    const leaseA = (await a.call({ action: 'create' })).lease!;
    const missing = leaseA.id.replace(/^./, (c) => (c === '0' ? '1' : '0'));
    for (const action of ['get', 'renew', 'revoke'] as const) {
      const stolen = await b.call({ action, token_id: leaseA.id });
      const absent = await b.call({ action, token_id: missing });
      expect(stolen, action).to.deep.equal({ result: 'failure', code: 'not_found', message: `lease not found: ${leaseA.id}` });
      expect(absent, action).to.deep.equal({ result: 'failure', code: 'not_found', message: `lease not found: ${missing}` });
    }
    expect((await b.call({ action: 'list' })).leases).to.deep.equal([]);
    expect(await writeWith(hub.fx.influx, leaseA.value), "B's revoke did nothing").to.equal(204);
    const leaseB = (await b.call({ action: 'create' })).lease!;
    expect((await a.call({ action: 'list' })).leases!.map((l) => l.id)).to.deep.equal([leaseA.id]);

    const all = await admin.call({ action: 'list' });
    expect(all.leases!.map((l) => l.id).sort()).to.deep.equal([leaseA.id, leaseB.id].sort());
    expect((await admin.call({ action: 'get', token_id: leaseA.id })).lease!.id).to.equal(leaseA.id);
    expect(await admin.call({ action: 'revoke', token_id: leaseA.id })).to.deep.equal({ result: 'success' });
    expect(await writeWith(hub.fx.influx, leaseA.value)).to.equal(401);
    expect(await writeWith(hub.fx.influx, leaseB.value)).to.equal(204);
  });

  it('lets the same identity renew and revoke its lease over a new connection and a new channel', async () => {
    hub = await startSecureHub({ policy: { defaultTtl: 60_000, maxTtl: 600_000 } });
    const device = await member();
    const lease = (await device.call({ action: 'create' })).lease!;
    await device.reconnect();
    const renewed = await device.call({ action: 'renew', token_id: lease.id, ttl: 120_000 });
    expect(renewed.result, JSON.stringify(renewed)).to.equal('success');
    expect(Date.parse(renewed.lease!.expires)).to.be.greaterThan(Date.parse(lease.expires));
    expect((await device.call({ action: 'list' })).leases!.map((l) => l.id)).to.deep.equal([lease.id]);
    expect(await device.call({ action: 'revoke', token_id: lease.id })).to.deep.equal({ result: 'success' });
    expect(await writeWith(hub.fx.influx, lease.value)).to.equal(401);
  });

  it('revokeAllOf revokes every lease of an owner in the cloud, those of creates under way included, and no one else’s', async () => {
    hub = await startSecureHub();
    const a = await member();
    const b = await member();
    const leasesA = [];
    for (let i = 0; i < 3; i++) leasesA.push((await a.call({ action: 'create' })).lease!);
    const leaseB = (await b.call({ action: 'create' })).lease!;
    // a create that has begun but not ended when the owner is removed
    const underWay = hub.fx.service.create({ owner: a.identifier, admin: false, attributes: DEVICE.attributes }, {});
    hub.members.delete(a.identifier);
    expect(await hub.fx.service.revokeAllOf(a.identifier)).to.equal(4);
    const late = await underWay;
    for (const lease of [...leasesA, late]) expect(await writeWith(hub.fx.influx, lease.value), lease.id).to.equal(401);
    expect(await writeWith(hub.fx.influx, leaseB.value)).to.equal(204);
    expect((await hub.fx.service.list({ owner: 'ops', admin: true })).map((l) => l.id)).to.deep.equal([leaseB.id]);
    expect(await hub.fx.service.revokeAllOf(a.identifier), 'nothing left').to.equal(0);
  });
});

describe('token_lease on two secure hubs sharing one Redis storage', function () {
  this.timeout(30_000);
  let redis: RedisServer;
  let influx: InfluxdbLocal;
  let hubs: SecureHub[] = [];
  before(async () => {
    redis = await startRedisServer();
  });
  after(async () => {
    await redis?.stop();
  });
  afterEach(async () => {
    await closeDevices();
    await Promise.all(hubs.map((h) => h.close()));
    hubs = [];
    await influx?.close();
  });

  it("lets the owner renew and revoke on the other hub, and keeps another member out of it there too", async () => {
    influx = await startInfluxdbLocal({ port: 0, org: 'tessera', bucket: 'tessera', token: 'operator-token-for-tests' });
    for (let i = 0; i < 2; i++) hubs.push(await startSecureHub({ influx, storage: redisStorage({ url: redis.url }), policy: { defaultTtl: 60_000, maxTtl: 600_000 } }));
    const [one, two] = hubs as [SecureHub, SecureHub];
    const identity = Ed25519Identity.generate();
    for (const h of hubs) h.members.set(identity.identifier, DEVICE);
    const device = await secureDevice(one.fx.port, one.identifier, identity);
    const lease = (await device.call({ action: 'create' })).lease!;

    const other = await secureDevice(two.fx.port, two.identifier);
    two.members.set(other.identifier, DEVICE);
    expect(await other.call({ action: 'renew', token_id: lease.id })).to.include({ result: 'failure', code: 'not_found' });

    await device.reconnect(two.fx.port, two.identifier);
    const renewed = await device.call({ action: 'renew', token_id: lease.id, ttl: 120_000 });
    expect(renewed.result, JSON.stringify(renewed)).to.equal('success');
    expect((await device.call({ action: 'get', token_id: lease.id })).lease!.expires).to.equal(renewed.lease!.expires);
    expect(await device.call({ action: 'revoke', token_id: lease.id })).to.deep.equal({ result: 'success' });
    expect(await writeWith(influx, lease.value)).to.equal(401);
    expect(await one.fx.service.list({ owner: 'ops', admin: true })).to.deep.equal([]);
  });
});

import { expect } from 'chai';
import type { InfluxdbLocal } from '@tessera/influxdb-local';
import { freePort, type RedisServer } from '@tessera/testing';
import type { Lease, LeaseResponse } from '@tessera/token-lease';
import {
  DELETE_ROUTE,
  killHubs,
  leaseCaller,
  type LeaseCaller,
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

/** Runs `fn` over `items`, `limit` at a time. */
async function inBatches<T, R>(items: readonly T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const out: R[] = [];
  for (let i = 0; i < items.length; i += limit) out.push(...(await Promise.all(items.slice(i, i + limit).map(fn))));
  return out;
}

/** A counter from a hub's Prometheus /metrics. */
async function metric(url: string, name: string): Promise<number> {
  const text = await (await fetch(`${url}/metrics`)).text();
  const line = text.split('\n').find((l) => l.startsWith(`${name} `));
  if (line === undefined) throw new Error(`no ${name} in /metrics`);
  return Number(line.slice(name.length + 1));
}

describe('tessera hub on Redis', function () {
  this.timeout(60_000);
  let redis: RedisServer;
  let influx: InfluxdbLocal | undefined;
  const callers: LeaseCaller[] = [];
  const caller = (port: number) => {
    const c = leaseCaller(port);
    callers.push(c);
    return c;
  };

  before(async function () {
    redis = await ownRedis(this);
  });
  after(async () => {
    await redis?.stop();
  });
  afterEach(async () => {
    await Promise.all(callers.splice(0).map((c) => c.close()));
    await killHubs();
    await influx?.close();
    influx = undefined;
  });

  it('two hubs on one Redis revoke each of 200 due leases exactly once', async () => {
    const cloud = (influx = await ownInflux());
    const storage = `${redis.url}/1`;
    const [portA, portB, metricsA, metricsB] = await Promise.all([freePort(), freePort(), freePort(), freePort()]);
    const [a, b] = await Promise.all([
      spawnHub({ listen: `127.0.0.1:${portA}`, redisUrl: storage, influx: cloud, args: ['--metrics', `127.0.0.1:${metricsA}`, '--log-level', 'warn'] }),
      spawnHub({ listen: `127.0.0.1:${portB}`, redisUrl: storage, influx: cloud, args: ['--metrics', `127.0.0.1:${metricsB}`, '--log-level', 'warn'] }),
    ]);
    const devices = [caller(a.port), caller(b.port)];
    const n = 200;
    // TTLs spread over 0.3..1.5 s, half created through each hub, all at once
    const leases = (
      await Promise.all(Array.from({ length: n }, (_, i) => devices[i % 2]!.call({ action: 'create', options: { ttl: 300 + ((i * 37) % 1_200) } })))
    ).map(leaseOf);
    expect(new Set(leases.map((l) => l.id)).size).to.equal(n);

    await waitUntil('every lease to be revoked', () => served(cloud, DELETE_ROUTE) >= n, 20_000);
    await waitUntil('Redis to hold no lease', async () => (await storedLeases(storage, cloud)) === 0, 20_000);
    const statuses = await inBatches(leases, 20, (l) => writeStatus(cloud, l.value));
    expect(statuses.filter((s) => s !== 401), 'every token is dead').to.deep.equal([]);
    // every token is dead (at least one DELETE each) and there are exactly as many DELETEs as tokens
    expect(served(cloud, POST_ROUTE)).to.equal(n);
    expect(served(cloud, DELETE_ROUTE), `${a.output()}\n${b.output()}`).to.equal(n);
    // and the hubs agree: between them they revoked each lease once
    const revoked = await Promise.all([metric(`http://127.0.0.1:${metricsA}`, 'tessera_leases_revoked_total'), metric(`http://127.0.0.1:${metricsB}`, 'tessera_leases_revoked_total')]);
    expect(revoked[0] + revoked[1]).to.equal(n);
    expect([a.alive(), b.alive()]).to.deep.equal([true, true]);
  });

  it('while Redis is down: fails requests quickly and clearly, keeps serving, and catches up once it is back', async function () {
    // Redis that keeps its data across the restart (append-only file, fsync always)
    const ownRedisServer = await ownRedis(this, { persistence: true });
    try {
      const cloud = (influx = await ownInflux());
      const storage = `${ownRedisServer.url}/0`;
      const hub = await spawnHub({ listen: `127.0.0.1:${await freePort()}`, redisUrl: storage, influx: cloud });
      const device = caller(hub.port);
      const [due, kept] = (
        await Promise.all([device.call({ action: 'create', options: { ttl: 1_500 } }), device.call({ action: 'create', options: { ttl: 600_000 } })])
      ).map(leaseOf) as [Lease, Lease];

      await ownRedisServer.stop();
      const requests: object[] = [
        { action: 'create', options: { ttl: 60_000 } },
        { action: 'get', token_id: kept.id },
        { action: 'list' },
        { action: 'renew', token_id: kept.id },
        { action: 'revoke', token_id: kept.id },
      ];
      for (const request of requests) {
        // Fails fast: the answer says Redis is not connected, not that a command timed out (nothing is queued).
        const r = await device.call(request, 30_000);
        expect(r.result, JSON.stringify(request)).to.equal('failure');
        expect(r.message).to.match(/redis|storage/i).and.match(/unavailable/i);
        expect(r.message).to.not.match(/no reply within/);
      }
      expect(hub.alive(), hub.output()).to.equal(true);

      // The short lease falls due while Redis is down: nobody can claim it, its token still works.
      await waitForTime(Date.parse(due.expires), 'the short lease to fall due');
      expect((await device.call({ action: 'list' })).result).to.equal('failure');
      expect(await writeStatus(cloud, due.value)).to.equal(204);

      await ownRedisServer.restart();
      await waitUntil('the lease that fell due meanwhile to be revoked', async () => (await writeStatus(cloud, due.value)) === 401, 20_000);
      const fresh = leaseOf(await device.call({ action: 'create', options: { ttl: 60_000 } }));
      expect(await writeStatus(cloud, fresh.value)).to.equal(204);
      expect(await writeStatus(cloud, kept.value)).to.equal(204);
      for (const l of [kept, fresh]) expect((await device.call({ action: 'revoke', token_id: l.id })).result).to.equal('success');

      // The create that failed meanwhile left no token behind (it was rolled back): every token created got one DELETE.
      expect(await storedLeases(storage, cloud)).to.equal(0);
      expect(served(cloud, POST_ROUTE)).to.equal(4);
      expect(served(cloud, DELETE_ROUTE), hub.output()).to.equal(4);
      for (const l of [due, kept, fresh]) expect(await writeStatus(cloud, l.value)).to.equal(401);
      expect((await hub.kill('SIGTERM')).code, hub.output()).to.equal(0);
    } finally {
      await ownRedisServer.stop();
    }
  });

  it('hubs with storages of their own on one InfluxDB leave each other’s live tokens alone', async () => {
    const cloud = (influx = await ownInflux());
    const [portA, portB, metricsB] = await Promise.all([freePort(), freePort(), freePort()]);
    const a = await spawnHub({ listen: `127.0.0.1:${portA}`, redisUrl: `${redis.url}/3`, influx: cloud });
    const device = caller(a.port);
    const leases = (await Promise.all(Array.from({ length: 50 }, () => device.call({ action: 'create', options: { ttl: 600_000 } })))).map(leaseOf);
    // orphan grace 0: whatever the second hub takes for an orphan, it revokes at once
    const b = await spawnHub({
      listen: `127.0.0.1:${portB}`,
      redisUrl: `${redis.url}/4`,
      influx: cloud,
      args: ['--metrics', `127.0.0.1:${metricsB}`, '--orphan-grace', '0'],
    });
    const deploymentOf = (output: string) => /deployment (\S+)\)/.exec(output)?.[1];
    expect(deploymentOf(a.output())).to.match(/^redis-[0-9a-f]{12}$/);
    expect(deploymentOf(b.output())).to.match(/^redis-[0-9a-f]{12}$/).and.not.equal(deploymentOf(a.output()));

    await waitUntil('the second hub to end its start-up sweep', async () => (await metric(`http://127.0.0.1:${metricsB}`, 'tessera_reconciliations_total')) >= 1, 20_000);
    expect(await metric(`http://127.0.0.1:${metricsB}`, 'tessera_orphans_revoked_total')).to.equal(0);
    expect(served(cloud, DELETE_ROUTE), b.output()).to.equal(0);
    const statuses = await inBatches(leases, 20, (l) => writeStatus(cloud, l.value));
    expect(statuses.filter((s) => s !== 204), 'every token of the first hub still works').to.deep.equal([]);
  });

  it('on a Redis that persists nothing: warns at start and in /health, and sweeps the orphans at once when Redis comes back empty', async function () {
    this.timeout(90_000);
    const volatile = await ownRedis(this); // --save '' --appendonly no
    try {
      const cloud = (influx = await ownInflux());
      const metricsPort = await freePort();
      const metrics = `http://127.0.0.1:${metricsPort}`;
      // orphan grace 0: a lost lease's token is an orphan at once (the default 30 s would only delay the sweep)
      const hub = await spawnHub({ listen: `127.0.0.1:${await freePort()}`, redisUrl: `${volatile.url}/0`, influx: cloud, args: ['--metrics', `127.0.0.1:${metricsPort}`, '--orphan-grace', '0'] });
      await waitUntil('the warning at start', () => /Redis persists nothing/.test(hub.output()), 20_000);
      const health = (await (await fetch(`${metrics}/health`)).json()) as { storage: object; warnings?: string[] };
      expect(health.storage).to.deep.equal({ name: 'redis', persists: false, persistence: 'appendonly no, save ""' });
      // this hub runs --insecure (its callers are raw plaintext peers), which /health warns about too
      expect(health.warnings).to.have.length(2);
      expect(health.warnings!.filter((w) => /persists nothing/.test(w))).to.have.length(1);
      expect(health.warnings!.filter((w) => /^insecure:/.test(w))).to.have.length(1);

      const device = caller(hub.port);
      const n = 100;
      const leases = await inBatches(Array.from({ length: n }, (_, i) => i), 25, async () => leaseOf(await device.call({ action: 'create', options: { ttl: 600_000 } })));
      const sweeps = await metric(metrics, 'tessera_reconciliations_total');

      // Redis restarts empty: 100 leases are gone, their tokens still work; the periodic sweep is 5 minutes away.
      await volatile.restart();
      await waitUntil('every orphaned token to be revoked', async () => (await metric(metrics, 'tessera_orphans_revoked_total')) >= n, 60_000);
      expect(await metric(metrics, 'tessera_reconciliations_total')).to.be.above(sweeps);
      const statuses = await inBatches(leases, 20, (l) => writeStatus(cloud, l.value));
      expect(statuses.filter((s) => s !== 401), 'every orphaned token is dead').to.deep.equal([]);
      expect(served(cloud, DELETE_ROUTE), hub.output()).to.equal(n);

      // and the hub serves on: a new lease works and is stored
      const fresh = leaseOf(await device.call({ action: 'create', options: { ttl: 60_000 } }));
      expect(await writeStatus(cloud, fresh.value)).to.equal(204);
      expect(await storedLeases(`${volatile.url}/0`, cloud)).to.equal(1);
      expect((await hub.kill('SIGTERM')).code, hub.output()).to.equal(0);
    } finally {
      await volatile.stop();
    }
  });

  it('answers every malformed request with a failure that says what is wrong, and keeps serving', async () => {
    const cloud = (influx = await ownInflux());
    const storage = `${redis.url}/2`;
    const hub = await spawnHub({ listen: `127.0.0.1:${await freePort()}`, redisUrl: storage, influx: cloud, args: ['--max-ttl', '3600000', '--default-ttl', '60000'] });
    const device = caller(hub.port);
    const unknownId = '0123456789abcdef';
    const cases: Array<[string, object | string | Uint8Array, RegExp]> = [
      ['not JSON', 'this is not json {', /invalid JSON/],
      ['a JSON array', '[1, 2]', /JSON object/],
      ['JSON null', 'null', /JSON object/],
      ['bytes that are not UTF-8', new Uint8Array([0xc3, 0x28, 0xff]), /not UTF-8/],
      ['no action', {}, /unknown action missing/],
      ['an unknown action', { action: 'destroy' }, /unknown action "destroy"/],
      ['an action of the wrong type', { action: 42 }, /unknown action a number/],
      ['options that are not an object', { action: 'create', options: 'ttl=5' }, /options must be an object/],
      ['a ttl that is a string', { action: 'create', options: { ttl: '5000' } }, /ttl must be a number/],
      ['a negative ttl', { action: 'create', options: { ttl: -5_000 } }, /ttl must be positive/],
      ['a zero ttl', { action: 'create', options: { ttl: 0 } }, /ttl must be positive/],
      ['a fractional ttl', { action: 'create', options: { ttl: 1_500.5 } }, /whole number/],
      ['a huge ttl', { action: 'create', options: { ttl: 1e12 } }, /above the maximum 3600000 ms/],
      ['an infinite ttl', '{"action":"create","options":{"ttl":1e400}}', /ttl must be a number/],
      ['a ttl below the minimum', { action: 'create', options: { ttl: 50 } }, /below the minimum 100 ms/],
      ['a permission the cloud refuses', { action: 'create', options: { permissions: [{ action: 'delete', bucket: 'tessera' }] } }, /permissions/],
      ['get without token_id', { action: 'get' }, /token_id/],
      ['revoke without token_id', { action: 'revoke' }, /token_id/],
      ['renew without token_id', { action: 'renew', ttl: 5_000 }, /token_id/],
      ['a token_id that is a number', { action: 'get', token_id: 42 }, /token_id must be a string/],
      ['an empty token_id', { action: 'revoke', token_id: '' }, /token_id must not be empty/],
      ['a renew with a negative ttl', { action: 'renew', token_id: unknownId, ttl: -1 }, /ttl must be positive/],
      ['get of an unknown lease', { action: 'get', token_id: unknownId }, /lease not found/],
      ['revoke of an unknown lease', { action: 'revoke', token_id: unknownId }, /lease not found/],
      ['a request_id that is not a string', { action: 'list', request_id: 5 }, /request_id/],
    ];
    // all at once, then the hub must still serve
    const answers = await Promise.all(cases.map(([, payload]) => device.call(payload, 20_000)));
    answers.forEach((r: LeaseResponse, i) => {
      const [what, , expected] = cases[i]!;
      expect(r.result, what).to.equal('failure');
      expect(r.message, what).to.be.a('string').and.match(expected);
    });
    const withId = await device.call({ action: 'destroy', request_id: 'r-1' });
    expect(withId).to.include({ result: 'failure', request_id: 'r-1' });

    expect(hub.alive(), hub.output()).to.equal(true);
    expect(served(cloud, POST_ROUTE), 'no malformed request reached the cloud').to.equal(0);
    const lease = leaseOf(await device.call({ action: 'create', options: { ttl: 60_000 } }));
    expect(await writeStatus(cloud, lease.value)).to.equal(204);
    expect((await device.call({ action: 'revoke', token_id: lease.id })).result).to.equal('success');
    expect(await storedLeases(storage, cloud)).to.equal(0);
    expect((await hub.kill('SIGTERM')).code).to.equal(0);
  });
});

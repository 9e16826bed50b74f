import { expect } from 'chai';
import { type Clock, fromUtf8, Node, route, type Route, silentLogger } from '@tessera/core';
import { type CloudService, CloudUnavailableError, InvalidOptionsError, type Lease, staticGrant, TokenLeaseWorker } from '@tessera/token-lease';
import {
  type AcquireReason,
  DEFAULT_RENEWAL_TIMING,
  LeaseClient,
  type LeaseClientEvents,
  type LeaseClientOptions,
  LeaseRejectedError,
  LeaseUnavailableError,
  renewalDelay,
  renewalWindow,
} from '@tessera/lease-client';
import { WebSocketTransport } from '@tessera/transport-ws';
import { influxdbV2 } from '@tessera/cloud-influxdb';
import { fakeClock, type HubFixture, startHub, writeWith } from '../../token-lease/test/fixtures.js';
import { settle, until } from './turns.js';


/** Everything a client emits, by event. */
function record(client: LeaseClient) {
  const events = {
    acquired: [] as LeaseClientEvents['acquired'][],
    renewed: [] as LeaseClientEvents['renewed'][],
    revoked: [] as LeaseClientEvents['revoked'][],
    failed: [] as LeaseClientEvents['failed'][],
    retrying: [] as LeaseClientEvents['retrying'][],
  };
  client.on('acquired', (e) => events.acquired.push(e));
  client.on('renewed', (e) => events.renewed.push(e));
  client.on('revoked', (e) => events.revoked.push(e));
  client.on('failed', (e) => events.failed.push(e));
  client.on('retrying', (e) => events.retrying.push(e));
  return events;
}

describe('LeaseClient against a real hub (WebSocket, influxdb-local)', () => {
  let fx: HubFixture | undefined;
  const nodes: Node[] = [];
  const clients: LeaseClient[] = [];

  afterEach(async () => {
    await Promise.allSettled(clients.splice(0).map((c) => c.stop()));
    await Promise.allSettled(nodes.splice(0).map((n) => n.stop()));
    await fx?.close();
    fx = undefined;
  });

  /** A device node of its own (optionally on a fake clock, which then also times its requests out). */
  function deviceNode(clock?: Clock): Node {
    const node = new Node({ name: 'device', logger: silentLogger, ...(clock === undefined ? {} : { clock }) });
    new WebSocketTransport(node);
    nodes.push(node);
    return node;
  }

  /** The hub route through a hop on the device that records each request's action before passing it on. */
  async function countedRoute(node: Node): Promise<{ hub: Route; actions: string[] }> {
    const actions: string[] = [];
    await node.startWorker('count', (ctx, msg) => {
      const body = JSON.parse(fromUtf8(msg.payload)) as { action?: string };
      if (body.action !== undefined) actions.push(body.action);
      ctx.forward(msg);
    });
    return { hub: route('count', `3#127.0.0.1:${fx!.port}`, 'token_lease'), actions };
  }

  function client(options: LeaseClientOptions): LeaseClient {
    const c = new LeaseClient({ logger: silentLogger, ...options });
    clients.push(c);
    return c;
  }

  function hubRoute(): Route {
    return route(`3#127.0.0.1:${fx!.port}`, 'token_lease');
  }

  describe('renewal timing', () => {
    it('renews at renewAt of the remaining time, within the jitter bounds (random() = 0 and = 1)', async () => {
      expect(renewalWindow(60_000, DEFAULT_RENEWAL_TIMING)).to.deep.equal({ earliest: 36_000, latest: 44_000 });
      fx = await startHub({ policy: { defaultTtl: 60_000, maxTtl: 3_600_000 } });
      for (const [r, at] of [
        [0, 36_000],
        [1, 44_000],
      ] as const) {
        const { clock, tick } = fakeClock();
        const node = deviceNode();
        const { hub, actions } = await countedRoute(node);
        const c = client({ node, hub, ttl: 60_000, clock, random: () => r });
        const events = record(c);
        const lease = await c.start();
        expect(events.acquired.map((e) => e.reason)).to.deep.equal(['start']);

        for (let round = 1; round <= 2; round++) {
          tick(at - 1);
          await settle();
          expect(actions.filter((a) => a === 'renew'), `random ${r}, round ${round}: just before`).to.have.length(round - 1);
          tick(1);
          await until(() => events.renewed.length === round, `renewal ${round}`);
          expect(actions.filter((a) => a === 'renew')).to.have.length(round);
          expect(events.renewed[round - 1]!.lease.id).to.equal(lease.id);
          expect(c.lease?.id).to.equal(lease.id);
        }
        expect(actions.filter((a) => a === 'create')).to.have.length(1);
        await c.stop();
        await node.stop();
      }
    });

    it('keeps every renewal point within [renewAt × (1 − jitter), renewAt × (1 + jitter)] of the remaining time', () => {
      const timing = { renewAt: 0.5, jitter: 0.2 };
      let state = 7;
      const random = () => ((state = (state * 1_103_515_245 + 12_345) % 2 ** 31) / 2 ** 31);
      for (let i = 0; i < 10_000; i++) {
        const remaining = 1 + (i * 7_919) % 10_000_000;
        const { earliest, latest } = renewalWindow(remaining, timing);
        const delay = renewalDelay(remaining, timing, random);
        expect(delay).to.be.within(earliest, latest);
        expect(earliest).to.be.closeTo(remaining * 0.4, 1);
        expect(latest).to.be.closeTo(remaining * 0.6, 1);
      }
      expect(renewalDelay(0, timing, random)).to.equal(0);
    });

    it('refuses timing that could put the renewal after expiry', () => {
      fx = undefined;
      const node = deviceNode();
      expect(() => new LeaseClient({ node, hub: route('token_lease'), renewAt: 0.95, jitter: 0.1 })).to.throw(InvalidOptionsError, /renewAt/);
      expect(() => new LeaseClient({ node, hub: route('token_lease'), renewAt: 1 })).to.throw(InvalidOptionsError, /renewAt/);
      expect(() => new LeaseClient({ node, hub: route('token_lease'), retry: { maxAttempts: 0 } })).to.throw(InvalidOptionsError, /retry.maxAttempts/);
    });
  });

  it('replaces a non-renewable lease before expiry and revokes the old one after the overlap', async () => {
    fx = await startHub({ policy: { renewable: false, defaultTtl: 60_000 } });
    const { clock, tick } = fakeClock();
    const c = client({ node: deviceNode(), hub: hubRoute(), ttl: 60_000, clock, random: () => 0.5 });
    const events = record(c);
    const first = await c.start();
    expect(first.renewable).to.equal(false);
    expect(await writeWith(fx.influx, first.value)).to.equal(204);

    tick(40_000); // 2/3 of 60 s, jitter at its midpoint
    await until(() => events.acquired.length === 2, 'the replacement');
    const second = c.lease!;
    expect(events.acquired[1]!.reason).to.equal('replace');
    expect(second.id).to.not.equal(first.id);
    expect(c.token).to.equal(second.value);
    expect(await writeWith(fx.influx, first.value), 'the old token during the overlap').to.equal(204);
    expect(await writeWith(fx.influx, second.value)).to.equal(204);

    tick(4_999);
    await settle();
    expect(events.revoked).to.have.length(0);
    expect(await writeWith(fx.influx, first.value)).to.equal(204);

    tick(1);
    await until(() => events.revoked.length === 1, 'the old lease revoked');
    expect(events.revoked[0]!.leaseId).to.equal(first.id);
    expect(await writeWith(fx.influx, first.value)).to.equal(401);
    expect(await writeWith(fx.influx, second.value)).to.equal(204);
    expect(events.failed).to.have.length(0);
  });

  it('shares one create and one revoke between 10,000 concurrent reportAuthFailure callers', async () => {
    fx = await startHub();
    const node = deviceNode();
    const { hub, actions } = await countedRoute(node);
    const c = client({ node, hub });
    const events = record(c);
    const old = await c.start();
    const before = fx.service.stats();

    const reports = Array.from({ length: 10_000 }, (_, i) => c.reportAuthFailure(i % 3 === 0 ? old : i % 3 === 1 ? old.id : old.value));
    const results = await Promise.all(reports);
    const fresh = results[0]!;
    expect(fresh.id).to.not.equal(old.id);
    expect(new Set(results.map((l) => l.id)).size).to.equal(1);
    expect(c.lease).to.deep.equal(fresh);
    expect(events.acquired.map((e) => e.reason)).to.deep.equal(['start', 'auth-failure']);

    await until(() => events.revoked.length === 1, 'the failed lease revoked');
    expect(events.revoked[0]!.leaseId).to.equal(old.id);
    expect(fx.service.stats().created - before.created).to.equal(1);
    expect(fx.service.stats().revoked - before.revoked).to.equal(1);
    expect(actions).to.deep.equal(['create', 'create', 'revoke']);

    // a late report about the replaced lease: the current one, no request
    expect((await c.reportAuthFailure(old)).id).to.equal(fresh.id);
    expect(await c.reportAuthFailure(old.value)).to.deep.equal(fresh);
    await settle();
    expect(actions).to.have.length(3);
    expect(await writeWith(fx.influx, old.value)).to.equal(401);
    expect(await writeWith(fx.influx, fresh.value)).to.equal(204);
  });

  it('retries a down hub with growing delays, then LeaseUnavailableError; the old lease stays current; recovers when the hub is back', async () => {
    fx = await startHub({ policy: { defaultTtl: 60_000 } });
    const { clock, tick } = fakeClock();
    const c = client({
      node: deviceNode(clock),
      hub: hubRoute(),
      ttl: 60_000,
      clock,
      random: () => 0.5, // back-off and renewal points without jitter
      requestTimeout: 1_000,
      retry: { initialDelay: 200, maxDelay: 10_000, maxAttempts: 6 },
    });
    const events = record(c);
    const lease = await c.start();
    await fx.hub.stopWorker('token_lease'); // the hub drops every request: each attempt times out

    tick(40_000);
    const delays = [200, 400, 800, 1_600, 3_200];
    for (const [i, delay] of delays.entries()) {
      await settle();
      tick(1_000); // the attempt times out
      await until(() => events.retrying.length === i + 1, `retry ${i + 1}`);
      expect(events.retrying[i]).to.include({ operation: 'renew', attempt: i + 1, delay });
      expect(events.retrying[i]!.error.name).to.equal('TimeoutError');
      expect(c.lease?.id, 'the old lease stays current').to.equal(lease.id);
      await settle();
      tick(delay);
    }
    await settle();
    tick(1_000);
    await until(() => events.failed.length === 1, 'giving up');
    const error = events.failed[0]!.error;
    expect(error).to.be.instanceOf(LeaseUnavailableError);
    expect(error).to.include({ code: 'LEASE_UNAVAILABLE', name: 'LeaseUnavailableError', attempts: 6 });
    expect(error.message).to.not.include(lease.value);
    expect(events.failed[0]!.operation).to.equal('renew');
    expect(c.lease?.id).to.equal(lease.id);
    expect(await writeWith(fx.influx, lease.value)).to.equal(204);

    // back: the next attempt comes at the renewal point of what remains (7.8 s × 2/3)
    await fx.hub.startWorker('token_lease', new TokenLeaseWorker(fx.service));
    tick(5_199);
    await settle();
    expect(events.renewed).to.have.length(0);
    tick(1);
    await until(() => events.renewed.length === 1, 'the renewal after recovery');
    expect(c.lease?.id).to.equal(lease.id);
    expect(events.failed).to.have.length(1);
  });

  it('rejects reportAuthFailure with LeaseUnavailableError while the hub is down, keeping the old lease', async () => {
    fx = await startHub();
    const { clock, tick } = fakeClock();
    const c = client({ node: deviceNode(clock), hub: hubRoute(), clock, random: () => 0.5, requestTimeout: 1_000, retry: { maxAttempts: 2 } });
    const lease = await c.start();
    await fx.hub.stopWorker('token_lease');
    const outcome = Promise.allSettled([c.reportAuthFailure(lease), c.reportAuthFailure(lease.id)]);
    await settle();
    tick(1_000);
    await settle();
    tick(200);
    await settle();
    tick(1_000);
    const [a, b] = await outcome;
    expect(a.status).to.equal('rejected');
    expect((a as PromiseRejectedResult).reason).to.be.instanceOf(LeaseUnavailableError);
    expect((b as PromiseRejectedResult).reason).to.equal((a as PromiseRejectedResult).reason);
    expect(c.lease?.id).to.equal(lease.id);

    await fx.hub.startWorker('token_lease', new TokenLeaseWorker(fx.service));
    const fresh = await c.reportAuthFailure(lease);
    expect(fresh.id).to.not.equal(lease.id);
  });

  it('retries failure responses that say the cloud is unavailable, whatever their wording', async () => {
    const failures = [
      new CloudUnavailableError('influxdb-v2 create: HTTP 503 service unavailable', 503),
      new CloudUnavailableError('influxdb-v2 create: fetch failed: connect ECONNREFUSED 127.0.0.1:9', undefined),
    ];
    fx = await startHub({
      cloud: (influx) => {
        const inner = influxdbV2({ url: influx.url, token: influx.token, org: influx.org });
        return new Proxy(inner, {
          get(target, key) {
            if (key === 'create' && failures.length > 0) return () => Promise.reject(failures.shift()!);
            const value: unknown = Reflect.get(target, key);
            return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
          },
        }) as CloudService;
      },
    });
    const { clock, tick } = fakeClock();
    const c = client({ node: deviceNode(), hub: hubRoute(), clock, random: () => 0.5 });
    const events = record(c);
    const started = c.start();
    await until(() => events.retrying.length === 1, 'the first retry');
    expect(events.retrying[0]!.error.message).to.match(/HTTP 503/);
    tick(200);
    await until(() => events.retrying.length === 2, 'the second retry');
    expect(events.retrying[1]!).to.include({ operation: 'create', attempt: 2, delay: 400 });
    expect(events.retrying[1]!.error).to.be.instanceOf(LeaseUnavailableError);
    tick(400);
    const lease = await started;
    expect(await writeWith(fx.influx, lease.value)).to.equal(204);
    expect(events.failed).to.have.length(0);
  });

  it('raises a permanent failure at once, with the hub message, after a single request', async () => {
    fx = await startHub({ policy: { minTtl: 1_000 } });
    const node = deviceNode();
    const { hub, actions } = await countedRoute(node);
    const c = client({ node, hub, ttl: 10 });
    const events = record(c);
    const err = await c.start().then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).to.be.instanceOf(LeaseRejectedError);
    expect(err).to.include({ code: 'LEASE_REJECTED', action: 'create' });
    expect((err as Error).message).to.match(/ttl 10 ms is below the minimum 1000 ms/);
    expect(actions).to.deep.equal(['create']);
    expect(events.failed.map((f) => f.operation)).to.deep.equal(['start']);
    expect(c.lease).to.equal(undefined);
  });

  it('decides on the failure code, never the wording: a refusal that says "unavailable" is not retried; not_allowed and quota_exceeded are final', async () => {
    fx = await startHub({ grants: staticGrant([{ resource: 'tessera', access: 'write' }]), quotas: { createsPerMinute: 1, maxActiveLeases: 0 } });
    const node = deviceNode();
    const { hub, actions } = await countedRoute(node);
    // a bucket named "unavailable": the hub's message says the word, its code says not_allowed
    const asking = client({ node, hub, options: { permissions: [{ action: 'write', bucket: 'unavailable' }] } });
    const refused = await asking.start().then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(refused).to.be.instanceOf(LeaseRejectedError);
    expect(refused).to.include({ reason: 'not_allowed', action: 'create' });
    expect((refused as Error).message).to.include('unavailable');
    expect(actions).to.deep.equal(['create']);
    // that create used the owner's one create of the minute: the next is quota_exceeded, also final
    const plain = client({ node, hub });
    const limited = await plain.start().then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(limited).to.include({ reason: 'quota_exceeded' });
    expect(actions).to.deep.equal(['create', 'create']);
  });

  it('replaces a lease whose renewal the hub refuses for good (lease not found)', async () => {
    fx = await startHub({ policy: { defaultTtl: 60_000 } });
    const { clock, tick } = fakeClock();
    const node = deviceNode();
    const { hub, actions } = await countedRoute(node);
    const c = client({ node, hub, ttl: 60_000, clock, random: () => 0.5 });
    const events = record(c);
    const first = await c.start();
    await fx.service.revoke({ owner: 'operator', admin: true }, first.id); // behind the client's back

    tick(40_000);
    await until(() => events.acquired.length === 2, 'the replacement');
    expect(events.acquired[1]!.reason).to.equal('replace');
    expect(c.lease!.id).to.not.equal(first.id);
    expect(actions).to.deep.equal(['create', 'renew', 'create']);
    expect(events.failed).to.have.length(0);
    expect(await writeWith(fx.influx, c.token!)).to.equal(204);
  });

  it('keeps its lease, and creates nothing, when a renewal meets quota_exceeded (a busy hub is not a reason to ask for more)', async () => {
    fx = await startHub({ policy: { defaultTtl: 60_000 } });
    const { clock, tick } = fakeClock();
    const node = deviceNode();
    const actions: string[] = [];
    // a hub whose lease worker is full for this owner: renewals answer quota_exceeded
    await node.startWorker('busy', (ctx, msg) => {
      const body = JSON.parse(fromUtf8(msg.payload)) as { action?: string; request_id?: string };
      if (body.action !== undefined) actions.push(body.action);
      if (body.action === 'renew') {
        ctx.reply(msg, JSON.stringify({ result: 'failure', code: 'quota_exceeded', message: 'too many requests of this caller waiting', request_id: body.request_id }));
        return;
      }
      ctx.forward(msg);
    });
    const c = client({ node, hub: route('busy', `3#127.0.0.1:${fx.port}`, 'token_lease'), ttl: 60_000, clock, random: () => 0.5 });
    const events = record(c);
    const first = await c.start();

    tick(40_000);
    await until(() => events.failed.length === 1, 'the renewal to fail');
    expect(events.failed[0]!.operation).to.equal('renew');
    expect(actions).to.deep.equal(['create', 'renew']);
    expect(events.acquired).to.have.length(1);
    expect(c.lease!.id).to.equal(first.id);
  });

  it('renews until the maximum TTL cuts a renewal short, then replaces the lease', async () => {
    const { clock, tick } = fakeClock();
    fx = await startHub({ clock, policy: { defaultTtl: 60_000, maxTtl: 90_000 } });
    const node = deviceNode();
    const { hub, actions } = await countedRoute(node);
    const c = client({ node, hub, ttl: 60_000, clock, random: () => 0.5 });
    const events = record(c);
    const first = await c.start();

    tick(40_000);
    await until(() => events.renewed.length === 1, 'the renewal');
    expect(events.renewed[0]!.lease.ttl).to.equal(50_000); // issued + 90 s, not now + 60 s
    tick(33_333); // 2/3 of the 50 s left
    await until(() => events.acquired.length === 2, 'the replacement');
    expect(events.acquired[1]!.reason).to.equal('replace');
    expect(actions).to.deep.equal(['create', 'renew', 'create']);
    tick(5_000);
    await until(() => events.revoked.length === 1, 'the old lease revoked');
    expect(events.revoked[0]!.leaseId).to.equal(first.id);
  });

  it('stop({ revoke: true }) revokes the current lease; a stopped client refuses work', async () => {
    fx = await startHub();
    const c = client({ node: deviceNode(), hub: hubRoute() });
    const events = record(c);
    const lease = await c.start();
    await c.stop({ revoke: true });
    expect(events.revoked.map((e) => e.leaseId)).to.deep.equal([lease.id]);
    expect(c.lease).to.equal(undefined);
    expect(await writeWith(fx.influx, lease.value)).to.equal(401);
    const err = await c.start().catch((e: unknown) => e);
    expect((err as Error).name).to.equal('ClosedError');
    const err2 = await c.reportAuthFailure(lease).catch((e: unknown) => e);
    expect((err2 as Error).name).to.equal('ClosedError');
  });

  it('never puts a token in a failure', async () => {
    fx = await startHub();
    const c = client({ node: deviceNode(), hub: hubRoute() });
    const events = record(c);
    const lease = await c.start();
    await fx.service.revoke({ owner: 'operator', admin: true }, lease.id);
    // revoking a lease the hub no longer has is not a failure; a report by token value still works
    const fresh = await c.reportAuthFailure(lease.value);
    await until(() => events.revoked.length === 1, 'revoked');
    for (const f of events.failed) expect(JSON.stringify({ m: f.error.message })).to.not.include(lease.value);
    expect(fresh.id).to.not.equal(lease.id);
  });
});

// The device runtime codes against this shape (packages/device/src/device.ts): LeaseClient must fit it.
interface LeaseSourceShape {
  readonly lease: Lease | undefined;
  start(): Promise<Lease>;
  reportAuthFailure(lease: Lease): Promise<Lease>;
  stop(options?: { revoke?: boolean }): Promise<void>;
  on<E extends 'acquired' | 'renewed' | 'revoked' | 'failed'>(
    event: E,
    listener: (event: { acquired: { lease: Lease; reason: string }; renewed: { lease: Lease }; revoked: { leaseId: string }; failed: { error: Error } }[E]) => void,
  ): unknown;
}
export const fitsLeaseSource = (c: LeaseClient): LeaseSourceShape => c;
export const reasons: AcquireReason[] = ['start', 'cache', 'replace', 'auth-failure'];

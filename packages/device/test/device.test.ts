import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { fakeClock, type HubFixture, startHub } from '../../../packages/token-lease/test/fixtures.js';
import { Device, type DeviceEvents, type DeviceOptions, resolveDeviceOptions, startDevice } from '../src/index.js';
import { type FaultyProxy, faultyProxy, oneTo, seqsOf, waitFor } from './helpers.js';

const ADMIN = { owner: 'test', admin: true };

describe('device', function () {
  let fx: HubFixture;
  let proxy: FaultyProxy | undefined;
  const devices: Device[] = [];

  beforeEach(async function () {
    fx = await startHub();
  });

  afterEach(async function () {
    await Promise.all(devices.splice(0).map((d) => d.stop({ flushTimeout: 1_000 })));
    await proxy?.close();
    proxy = undefined;
    await fx.close();
  });

  const options = (extra: Partial<DeviceOptions> = {}): DeviceOptions => ({
    hub: `ws://127.0.0.1:${fx.port}`,
    deviceId: 'dev-1',
    influxUrl: fx.influx.url,
    org: fx.influx.org,
    bucket: fx.influx.bucket,
    ...extra,
  });

  async function start(extra: Partial<DeviceOptions> = {}): Promise<Device> {
    const device = await startDevice(options(extra));
    devices.push(device);
    return device;
  }

  function record<E extends keyof DeviceEvents>(device: Device, event: E): DeviceEvents[E][0][] {
    const seen: DeviceEvents[E][0][] = [];
    device.on(event, ((e: DeviceEvents[E][0]) => seen.push(e)) as never);
    return seen;
  }

  const count = (device = 'dev-1') => fx.influx.countPoints({ measurement: 'device_metrics', tags: { device } });
  /** InfluxDB holds n points of the device and the device has heard that they were written. */
  const settled = (device: Device, n: number) => () => count(device.deviceId) === n && device.stats().pointsWritten === n;

  /** Ticks one interval at a time until point `last` is written, waiting for each point. */
  async function tickThrough(device: Device, tick: (ms: number) => void, last: number): Promise<void> {
    for (let n = device.stats().pointsWritten + 1; n <= last; n++) {
      tick(1_000);
      await waitFor(`point ${n}`, settled(device, n));
    }
  }

  it('writes one point per interval, tagged with the device id, each with its seq', async function () {
    const { clock, tick } = fakeClock();
    const t0 = clock.now();
    const device = await start({ clock });
    await waitFor('the first point', settled(device, 1));
    await tickThrough(device, tick, 5);
    const points = fx.influx.points({ measurement: 'device_metrics', tags: { device: 'dev-1' } });
    expect(points.map((p) => p.fields['seq'])).to.deep.equal(oneTo(5));
    expect(points.map((p) => BigInt(p.timestamp) / 1_000_000n)).to.deep.equal([0, 1, 2, 3, 4].map((i) => BigInt(t0 + i * 1_000)));
    expect(points.every((p) => typeof p.fields['value'] === 'number')).to.equal(true);
    expect(device.stats()).to.include({ pointsWritten: 5, pointsFailed: 0, pointsLost: 0, authFailures: 0, leasesUsed: 1 });
  });

  it('meets a 401 after a revoke from outside, reports that lease, swaps the token and loses no point', async function () {
    const { clock, tick } = fakeClock();
    const device = await start({ clock });
    const failures = record(device, 'auth-failure');
    const swaps = record(device, 'token-swapped');
    const written = record(device, 'point-written');
    await waitFor('the first point', settled(device, 1));
    await tickThrough(device, tick, 3);
    const first = device.stats().lease!.id;
    await fx.service.revoke(ADMIN, first);

    await tickThrough(device, tick, 8);
    expect(seqsOf(fx.influx, 'dev-1')).to.deep.equal(oneTo(8));
    expect(failures).to.have.length(1);
    expect(failures[0]).to.include({ leaseId: first, status: 401 });
    const second = device.stats().lease!.id;
    expect(second).to.not.equal(first);
    expect(swaps).to.deep.equal([{ from: first, to: second }]);
    expect(written.find((w) => w.seq === 4)).to.include({ replayed: true, leaseId: second });
    expect(device.stats()).to.include({ pointsWritten: 8, pointsFailed: 0, pointsLost: 0, authFailures: 1, leasesUsed: 2 });
    expect((await fx.service.list(ADMIN)).map((l) => l.id)).to.deep.equal([second]);
  });

  it('replays every point made while the token was refused, in order', async function () {
    const { clock, tick } = fakeClock();
    const device = await start({ clock });
    await waitFor('the first point', settled(device, 1));
    await fx.service.revoke(ADMIN, device.stats().lease!.id);
    // five points at once: the first write fails, the rest pile up behind it
    for (let i = 0; i < 5; i++) tick(1_000);
    await waitFor('six points', settled(device, 6));
    expect(seqsOf(fx.influx, 'dev-1')).to.deep.equal(oneTo(6));
    expect(device.stats()).to.include({ pointsWritten: 6, pointsFailed: 0, pointsLost: 0, authFailures: 1, leasesUsed: 2 });
  });

  it('reports the lease whose token failed each time, not the first one (the seed bug)', async function () {
    const { clock, tick } = fakeClock();
    const device = await start({ clock });
    const failures = record(device, 'auth-failure');
    await waitFor('the first point', settled(device, 1));
    const revoked: string[] = [];
    for (let round = 1; round <= 3; round++) {
      const id = device.stats().lease!.id;
      revoked.push(id);
      await fx.service.revoke(ADMIN, id);
      tick(1_000);
      await waitFor(`point ${round + 1}`, settled(device, round + 1));
    }
    expect(failures.map((f) => f.leaseId)).to.deep.equal(revoked);
    expect(new Set(revoked).size).to.equal(3);
    expect(seqsOf(fx.influx, 'dev-1')).to.deep.equal(oneTo(4));
    expect(device.stats()).to.include({ pointsLost: 0, authFailures: 3, leasesUsed: 4 });
    expect(await fx.service.list(ADMIN)).to.have.length(1);
  });

  it('retries transient failures and lost answers without losing or doubling a point', async function () {
    proxy = await faultyProxy(fx.influx.url);
    proxy.faults.push({ answer: 503 }, { answer: 503 }, { forwardThenAnswer: 503 }, { answer: 429 });
    const device = await start({ influxUrl: proxy.url, interval: 20, retry: { initialDelay: 5, maxDelay: 20, factor: 2, jitter: 0 } });
    const failed = record(device, 'write-failed');
    await waitFor('15 points', () => count() >= 15);
    await device.stop();
    const n = device.stats().pointsWritten;
    expect(seqsOf(fx.influx, 'dev-1')).to.deep.equal(oneTo(n));
    expect(failed.map((f) => f.status)).to.deep.equal([503, 503, 503, 429]);
    expect(device.stats()).to.include({ pointsFailed: 0, pointsLost: 0, authFailures: 0 });
  });

  it('counts a point InfluxDB rejects as lost and goes on with the next', async function () {
    proxy = await faultyProxy(fx.influx.url);
    const { clock, tick } = fakeClock();
    const device = await start({ clock, influxUrl: proxy.url });
    const lost = record(device, 'point-lost');
    await waitFor('the first point', settled(device, 1));
    proxy.faults.push({ answer: 400 });
    tick(1_000);
    await waitFor('the lost point', () => lost.length === 1);
    tick(1_000);
    await waitFor('point 3', () => count() === 2 && device.stats().pointsWritten === 2);
    expect(seqsOf(fx.influx, 'dev-1')).to.deep.equal([1, 3]);
    expect(lost[0]!.seq).to.equal(2);
    expect(device.stats()).to.include({ pointsWritten: 2, pointsFailed: 0, pointsLost: 1 });
  });

  it('writes what is pending when stopped, then revokes its lease', async function () {
    const { clock, tick } = fakeClock();
    const device = await start({ clock });
    await waitFor('the first point', settled(device, 1));
    for (let i = 0; i < 3; i++) tick(1_000);
    await device.stop();
    expect(seqsOf(fx.influx, 'dev-1')).to.deep.equal(oneTo(4));
    expect(device.stats()).to.include({ pointsWritten: 4, pointsLost: 0 });
    expect(await fx.service.list(ADMIN)).to.deep.equal([]);
    tick(5_000);
    expect(count()).to.equal(4);
  });

  it('renews its lease, then moves to a new one at the maximum TTL, without a refused write', async function () {
    await fx.close();
    const { clock, tick } = fakeClock();
    // hub and device on one fake clock: renewals, the maximum TTL and expiry all come from the ticks
    // (a TTL of many ticks, so a renewal in flight while the test ticks on is not a lease expiring under it)
    fx = await startHub({ clock, policy: { minTtl: 1_000, defaultTtl: 60_000, maxTtl: 120_000 } });
    const device = await start({ clock, ttl: 60_000 });
    const leases = record(device, 'lease');
    const swaps = record(device, 'token-swapped');
    await waitFor('the first point', settled(device, 1));
    await tickThrough(device, tick, 150);
    expect(leases.map((l) => l.reason)).to.include('renewed').and.to.include('replace');
    expect(swaps.length).to.be.greaterThan(0);
    expect(seqsOf(fx.influx, 'dev-1')).to.deep.equal(oneTo(150));
    expect(device.stats()).to.include({ pointsLost: 0, authFailures: 0 });
    expect(device.stats().leasesUsed).to.equal(swaps.length + 1);
  });

  it('takes its cached lease up again after a restart, and keeps it on stop', async function () {
    // leases owned by one anonymous owner, as on `tessera hub --insecure`: with owners by connection,
    // the restarted device (a new connection) could use its cached token but not renew or revoke it
    await fx.close();
    fx = await startHub({ worker: { owners: 'anonymous' } });
    const dir = await mkdtemp(join(tmpdir(), 'tessera-device-'));
    try {
      const { clock, tick } = fakeClock();
      const cache = { path: join(dir, 'lease'), keyFile: join(dir, 'lease.key') };
      const first = await start({ clock, cache });
      await waitFor('the first point', settled(first, 1));
      const lease = first.stats().lease!.id;
      await first.stop();
      expect((await fx.service.list(ADMIN)).map((l) => l.id)).to.deep.equal([lease]);

      tick(1_000);
      const second = new Device(resolveDeviceOptions({ ...options(), clock, cache, revokeOnStop: true }));
      devices.push(second);
      const leases = record(second, 'lease');
      await second.start();
      await waitFor('the second run\'s first point', () => count() === 2 && second.stats().pointsWritten === 1);
      expect(leases).to.deep.equal([{ lease: { ...leases[0]!.lease, id: lease }, reason: 'cache' }]);
      await second.stop();
      expect(await fx.service.list(ADMIN)).to.deep.equal([]);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('keeps devices apart by their tag', async function () {
    const { clock, tick } = fakeClock();
    await start({ clock });
    await start({ clock, deviceId: 'dev 2,b=c' });
    await waitFor('first points', () => count('dev-1') === 1 && count('dev 2,b=c') === 1);
    tick(1_000);
    await waitFor('second points', () => count('dev-1') === 2 && count('dev 2,b=c') === 2);
    expect(seqsOf(fx.influx, 'dev 2,b=c')).to.deep.equal([1, 2]);
  });
});

import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { type MemberStore, redisMemberStore } from '@tessera/authority';
import { type InfluxdbLocal, startInfluxdbLocal } from '@tessera/influxdb-local';
import { loadIdentity, loadOrCreateIdentity } from '@tessera/secure-channel';
import { redisStorage } from '@tessera/storage-redis';
import { type RedisServer, startRedisServer } from '@tessera/testing';
import type { StorageService } from '@tessera/token-lease';
import { type SecureHub, type SecureHubOptions, startSecureHub } from '../../lease-client/test/fixtures/secure-hub.js';
import { fakeClock } from '../../token-lease/test/fixtures.js';
import { Device, type DeviceEvents, type DeviceOptions, resolveDeviceOptions } from '../src/index.js';
import { waitFor } from './helpers.js';

/** Where a hub keeps its leases and its members: what must outlive it. */
interface Backend {
  name: string;
  /** The parts of the hub's options that say where; the same for every start of the hub. */
  hub(dir: string): Partial<SecureHubOptions>;
}

describe('a secure device restarted after its hub restarted', function () {
  let influx: InfluxdbLocal;
  let redis: RedisServer;
  let dir: string;
  const hubs: SecureHub[] = [];
  const devices: Device[] = [];

  before(async function () {
    influx = await startInfluxdbLocal({ port: 0, org: 'tessera', bucket: 'tessera', token: 'operator-token-for-tests' });
    redis = await startRedisServer();
  });
  after(async function () {
    await redis?.stop();
    await influx?.close();
  });
  beforeEach(async function () {
    dir = await mkdtemp(join(tmpdir(), 'tessera-device-restart-'));
  });
  afterEach(async function () {
    await Promise.allSettled(devices.splice(0).map((d) => d.stop({ flushTimeout: 1_000 })));
    for (const hub of hubs.splice(0)) await hub.stop();
    await rm(dir, { recursive: true, force: true });
  });

  const backends: Backend[] = [
    {
      name: 'memory storage with snapshot files (leases and members)',
      hub: (at) => ({ snapshotPath: join(at, 'leases.json'), membersSnapshotPath: join(at, 'members.json') }),
    },
    {
      name: 'Redis (redisStorage and redisMemberStore)',
      hub: () => ({
        storage: (): StorageService => redisStorage({ url: redis.url, prefix: 'restart:' }),
        members: (): MemberStore => redisMemberStore({ redis: redis.url, keyPrefix: 'restart:{members}:auth:' }),
      }),
    },
  ];

  for (const [n, backend] of backends.entries()) {
    it(`${backend.name}: the same identity file and no token take the cached lease up again through the new hub, and renew it`, async function () {
      const { clock, tick } = fakeClock();
      const hubIdentity = await loadOrCreateIdentity(join(dir, 'hub-identity.json'));
      const startHub = async (port?: number) => {
        const hub = await startSecureHub({ influx, identity: hubIdentity, clock, policy: { defaultTtl: 60_000, maxTtl: 600_000 }, ...backend.hub(dir), ...(port ? { port } : {}) });
        hubs.push(hub);
        return hub;
      };
      const stopHub = async (hub: SecureHub) => {
        hubs.splice(hubs.indexOf(hub), 1);
        await hub.stop();
      };
      const deviceId = `restart-${n + 1}`; // one influxdb-local for all: each run counts its own points
      const identityFile = join(dir, 'device-identity.json');
      const cache = { path: join(dir, 'lease'), keyFile: join(dir, 'lease.key') };
      const options = (extra: Partial<DeviceOptions>): DeviceOptions => ({
        hub: `ws://127.0.0.1:${hub1.port}`,
        deviceId,
        influxUrl: influx.url,
        org: influx.org,
        bucket: influx.bucket,
        ttl: 60_000,
        hubIdentifier: hubIdentity.identifier,
        cache,
        clock,
        ...extra,
      });
      const device = (extra: Partial<DeviceOptions>) => {
        const d = new Device(resolveDeviceOptions(options(extra)));
        devices.push(d);
        const seen = { lease: [] as DeviceEvents['lease'][0][], enrolled: [] as DeviceEvents['enrolled'][0][], channel: [] as DeviceEvents['channel'][0][] };
        d.on('lease', (e) => seen.lease.push(e));
        d.on('enrolled', (e) => seen.enrolled.push(e));
        d.on('channel', (e) => seen.channel.push(e));
        return { d, seen };
      };
      const count = () => influx.countPoints({ measurement: 'device_metrics', tags: { device: deviceId } });

      // first run: enrolls with its token, leases, writes, stops keeping its (cached) lease
      const hub1 = await startHub();
      const { token } = await hub1.authority.createToken({ attributes: { role: 'device' } });
      const identity = await loadOrCreateIdentity(identityFile);
      const first = device({ identity, enrollToken: token });
      await first.d.start();
      await waitFor('the first point', () => count() === 1 && first.d.stats().pointsWritten === 1);
      expect(first.seen.enrolled).to.deep.equal([{ identifier: identity.identifier, attributes: { role: 'device' } }]);
      const lease = first.d.stats().lease!.id;
      await first.d.stop();

      // the hub restarts on the same port, identity and storage: members and leases are still there
      await stopHub(hub1);
      const hub2 = await startHub(hub1.port);
      expect(await hub2.authority.membership(identity.identifier)).to.deep.equal({ identifier: identity.identifier, attributes: { role: 'device' }, admin: false });
      expect((await hub2.service.list({ owner: identity.identifier, admin: false })).map((l) => l.id)).to.deep.equal([lease]);

      // the device restarts: the same identity file, no token
      tick(1_000);
      const second = device({ identity: await loadIdentity(identityFile) });
      await second.d.start();
      await waitFor("the second run's first point", () => count() === 2 && second.d.stats().pointsWritten === 1);
      expect(second.seen.lease.map((e) => [e.lease.id, e.reason])).to.deep.equal([[lease, 'cache']]);
      expect(second.seen.enrolled, 'a member does not enroll again').to.deep.equal([]);

      // its lease is renewed through the restarted hub (about 2/3 into its 60 s), writes going on each second
      let written = 1;
      while (!second.seen.lease.some((e) => e.reason === 'renewed')) {
        expect(written, 'renewed before the lease would expire').to.be.below(59);
        tick(1_000);
        written++;
        await waitFor(`point ${written} of the second run`, () => second.d.stats().pointsWritten === written);
      }
      await waitFor('the renewal stored', async () => {
        const [stored] = await hub2.service.list({ owner: identity.identifier, admin: false });
        return stored !== undefined && Date.parse(stored.expires) > clock.now() + 50_000;
      });
      const renewed = second.seen.lease.find((e) => e.reason === 'renewed')!;
      expect(renewed.lease.id).to.equal(lease);
      expect(second.seen.channel.map((e) => e.hub)).to.deep.equal([hubIdentity.identifier]);
      expect(hub2.authority.calls.map((c) => c.action).filter((a) => a !== 'credential'), 'no enroll on the restarted hub').to.deep.equal([]);
      expect(second.d.stats()).to.include({ authFailures: 0, pointsLost: 0, leasesUsed: 1 });
      tick(1_000);
      await waitFor('a point written after the renewal', () => second.d.stats().pointsWritten === written + 1);
    });
  }
});

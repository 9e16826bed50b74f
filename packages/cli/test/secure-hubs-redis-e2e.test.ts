// Two secure `tessera hub` processes on one redis-server, started at the same
// time on one identity file that does not exist yet (as the README's "Several
// hubs on Redis" tells operators), and one influxdb-local in this process: a
// bootstrap token made through hub A is redeemed once, through hub B, by a
// `tessera device`; that device's identity then gets, renews and revokes its
// lease through hub A without enrolling again; the used token lets no second
// identity in through either hub; a removal through A ends the membership on
// B. Then no secret the test made appears in anything any process printed.
import { expect } from 'chai';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type InfluxdbLocal } from '@tessera/influxdb-local';
import { freePort, writeStatus } from '@tessera/testing';
import { createIdentity, type Running, start, tessera, waitForOutput } from './cli-helpers.js';
import { ownInflux, ownRedis } from './hub-helpers.js';
import { Witness } from './witness.js';

interface LeaseAnswer {
  result: string;
  lease?: { id: string; value: string; expires: string };
}

describe('two secure tessera hubs on one Redis, one identity file (child processes)', function () {
  // child processes on a loaded 2-core machine: seconds apiece
  this.timeout(120_000);
  let influx: InfluxdbLocal;
  let dir: string;
  const running: Running[] = [];

  beforeEach(async () => {
    influx = await ownInflux();
    dir = mkdtempSync(join(tmpdir(), 'tessera-two-hubs-'));
  });
  afterEach(async () => {
    await Promise.all(running.splice(0).map((r) => r.stop()));
    await influx?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('a token made through A is redeemed once through B; the member is served by A and B alike, and removed through A is refused by B; no secret printed', async function () {
    const redis = await ownRedis(this);
    try {
      const w = new Witness();
      w.secret('the InfluxDB operator token', influx.token);
      const admin = await createIdentity(dir, 'admin');
      w.identityFile('the admin', admin.file);
      const hubFile = join(dir, 'hub.json');
      const storage = `${redis.url}/0`;

      /** A secure `tessera hub` on the shared Redis and identity file, its operator token only in INFLUX_TOKEN. */
      const launchHub = async (name: string) => {
        const port = await freePort();
        const args = ['hub', '--listen', `127.0.0.1:${port}`, '--storage', storage, '--identity', hubFile, '--admin', admin.identifier, '--influx-url', influx.url, '--log-level', 'debug'];
        const hub = w.started(`hub ${name}`, await start(args, 'listening on', { INFLUX_TOKEN: influx.token }));
        running.push(hub);
        const identifier = /identity: (I[0-9a-f]{64})/.exec(hub.stdout())?.[1];
        expect(identifier, hub.stdout()).to.be.a('string');
        return { url: `ws://127.0.0.1:${port}`, identifier: identifier! };
      };
      // both first starts race to create the identity file: both end with the one saved
      const [a, b] = await Promise.all([launchHub('A'), launchHub('B')]);
      const saved = JSON.parse(readFileSync(hubFile, 'utf8')) as { identifier: string };
      expect(a.identifier).to.equal(saved.identifier);
      expect(b.identifier).to.equal(saved.identifier);
      w.identityFile('the hubs', hubFile);
      const hubId = saved.identifier;
      const through = (hub: { url: string }, identity: string) => ['--hub', hub.url, '--identity', identity, '--hub-identity', hubId];

      // a one-use bootstrap token, made through A
      const made = w.answered('enroll create-token through A', await tessera(['enroll', 'create-token', ...through(a, admin.file), '--attr', 'role=device', '--uses', '1']));
      expect(made.code, made.stderr).to.equal(0);
      const token = made.stdout.trim();
      w.secret('the bootstrap token', token);

      // redeemed through B by a device, which gets a lease through B and writes with it
      const devFile = join(dir, 'dev.json');
      const deviceArgs = (hub: { url: string }, identity: string, deviceId: string) => [
        'device', '--hub', hub.url, '--hub-identity', hubId, '--identity', identity, '--device-id', deviceId,
        '--interval', '150', '--ttl', '60000', '--influx-url', influx.url, '--log-level', 'info',
      ];
      const device = w.started('the device (through B)', await start(deviceArgs(b, devFile, 'two-hubs'), /lease (\w+) acquired/, { TESSERA_ENROLL_TOKEN: token }));
      running.push(device);
      w.identityFile('the device', devFile);
      const deviceId = (JSON.parse(readFileSync(devFile, 'utf8')) as { identifier: string }).identifier;
      expect(device.stdout()).to.include(`enrolled as ${deviceId} with role=device`);
      const first = /lease (\w+) acquired/.exec(device.stdout())![1]!;
      await waitForOutput(device, /point seq=2 /, 'two points');

      // the same identity through A, without a token: its lease is there to get, renew and revoke
      const asDeviceOnA = through(a, devFile);
      const got = w.answered('lease get by the device through A', await tessera(['lease', 'get', first, ...asDeviceOnA]));
      expect(got.code, got.stderr).to.equal(0);
      const lease = (JSON.parse(got.stdout) as LeaseAnswer).lease!;
      w.secret(`the value of lease ${first}`, lease.value);
      expect(lease.id).to.equal(first);
      expect(await writeStatus(influx, lease.value)).to.equal(204);
      const renewed = w.answered('lease renew by the device through A', await tessera(['lease', 'renew', first, ...asDeviceOnA, '--ttl', '120000']));
      expect(renewed.code, renewed.stderr).to.equal(0);
      const renewedLease = (JSON.parse(renewed.stdout) as LeaseAnswer).lease!;
      expect(renewedLease.id).to.equal(first);
      expect(Date.parse(renewedLease.expires)).to.be.greaterThan(Date.parse(lease.expires));
      const atRevoke = device.stdout().length;
      const revoked = w.ran('lease revoke by the device through A', await tessera(['lease', 'revoke', first, ...asDeviceOnA]));
      expect(revoked.code, revoked.stderr).to.equal(0);
      expect(await writeStatus(influx, lease.value)).to.equal(401);
      // the device on B meets the revoke and gets a new lease through B
      const second = (await waitForOutput(device, new RegExp(`token swapped: lease ${first} -> lease (\\w+)`), 'the swap', atRevoke))[1]!;
      const listed = w.answered('lease list by the device through A', await tessera(['lease', 'list', ...asDeviceOnA]));
      expect(listed.code, listed.stderr).to.equal(0);
      const held = (JSON.parse(listed.stdout) as { leases: { id: string; value: string }[] }).leases;
      for (const l of held) w.secret(`the value of lease ${l.id}`, l.value);
      expect(held.map((l) => l.id)).to.deep.equal([second]);

      // the used token lets no second identity in, through either hub
      const otherFile = join(dir, 'other.json');
      for (const hub of [a, b]) {
        const other = w.ran(`a second identity with the used token through ${hub === a ? 'A' : 'B'}`, await tessera(deviceArgs(hub, otherFile, 'two-hubs-x'), { TESSERA_ENROLL_TOKEN: token }));
        expect(other.code, other.stdout + other.stderr).to.equal(1);
        expect(other.stderr).to.match(/could not start: .*refused the enroll token/);
      }
      w.identityFile('the second identity', otherFile);

      // removed through A: its lease ends, and B refuses it a new one and any request
      const afterSwap = device.stdout().length;
      const removed = w.ran('enroll remove through A', await tessera(['enroll', 'remove', deviceId, ...through(a, admin.file)]));
      expect(removed.code, removed.stderr).to.equal(0);
      await waitForOutput(device, new RegExp(`auth failure: InfluxDB answered 40[13] to lease ${second}`), 'the 401 of the ended lease', afterSwap);
      await waitForOutput(device, /lease create failed: .*(not a member|no longer counts .* as a member)/, 'the refusal of a new lease by B', afterSwap);
      const refused = w.ran('lease list by the removed member through B', await tessera(['lease', 'list', ...through(b, devFile)]));
      expect(refused.code).to.equal(1);
      expect(refused.stderr).to.match(/not a member/);
      expect(await device.stop()).to.equal(0);
      w.scan();
    } finally {
      await redis.stop();
    }
  });
});

// A secure `tessera hub` end to end, every Tessera part a child process (the
// InfluxDB is an influxdb-local in this process, so the test can count every
// point): an admin made by `tessera identity create`, a device enrolled once
// with a one-use bootstrap token from `tessera enroll create-token`, a revoke
// from outside, restarts of the device (without the token) and of the hub, and
// `tessera enroll remove`. Then no secret the test made appears in anything
// any process printed.
import { expect } from 'chai';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type InfluxdbLocal, startInfluxdbLocal } from '@tessera/influxdb-local';
import { freePort, writeStatus } from '@tessera/testing';
import { createIdentity, createToken, type Running, start, tessera, waitForOutput } from './cli-helpers.js';
import { ownRedis } from './hub-helpers.js';
import { Witness } from './witness.js';

/** Stats of a stopped device: its "stopped:" line. */
function stoppedStats(device: Running): { written: number; failed: number; lost: number; authFailures: number } {
  const m = /stopped: written=(\d+) failed=(\d+) lost=(\d+) auth-failures=(\d+)/.exec(device.stdout());
  expect(m, device.stdout()).to.not.equal(null);
  const [, written, failed, lost, authFailures] = m!.map(Number) as [number, number, number, number, number];
  return { written, failed, lost, authFailures };
}

/** Every point one device run wrote is in InfluxDB, once: seq 1..written under its device tag. */
function expectEveryPoint(influx: InfluxdbLocal, deviceId: string, written: number): void {
  const points = influx.points({ bucket: 'tessera', measurement: 'device_metrics', tags: { device: deviceId } });
  const seqs = points.map((p) => Number(String(p.fields['seq']).replace(/i$/, ''))).sort((a, b) => a - b);
  expect(seqs, `points of ${deviceId}`).to.deep.equal(Array.from({ length: written }, (_, i) => i + 1));
}

describe('a secure tessera hub end to end (child processes)', function () {
  // child processes on a loaded 2-core machine: seconds apiece
  this.timeout(120_000);
  let influx: InfluxdbLocal;
  let dir: string;
  const running: Running[] = [];

  beforeEach(async () => {
    influx = await startInfluxdbLocal({ port: 0, org: 'tessera', bucket: 'tessera', token: `operator-${Math.random().toString(36).slice(2)}-${Date.now()}` });
    dir = mkdtempSync(join(tmpdir(), 'tessera-secure-e2e-'));
  });
  afterEach(async () => {
    await Promise.all(running.splice(0).map((r) => r.stop()));
    await influx?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  /** Starts a long-running `tessera` command, stopped after the test if it still runs. */
  async function launch(witness: Witness, what: string, args: string[], ready: RegExp | string, env: NodeJS.ProcessEnv = {}): Promise<Running> {
    const r = await start(args, ready, env);
    running.push(r);
    return witness.started(what, r);
  }

  /** `tessera hub`, secure (no --insecure), its operator token only in INFLUX_TOKEN. */
  function hubArgs(port: number, storage: string, admin: string, metricsPort: number): string[] {
    return [
      'hub',
      '--listen', `127.0.0.1:${port}`,
      '--storage', storage,
      '--identity', join(dir, 'hub.json'),
      '--admin', admin,
      '--influx-url', influx.url,
      '--metrics', `127.0.0.1:${metricsPort}`,
      '--credential-ttl', '4000',
      '--log-level', 'debug',
    ];
  }

  /** A witness, an admin identity and a secure `tessera hub` on `storage`, with the hub's identifier from its start lines. */
  async function secureHub(storage: string) {
    const w = new Witness();
    w.secret('the InfluxDB operator token', influx.token);
    const admin = await createIdentity(dir, 'admin');
    w.identityFile('the admin', admin.file);
    const [port, metricsPort] = await Promise.all([freePort(), freePort()]);
    const hubUrl = `ws://127.0.0.1:${port}`;
    const env = { INFLUX_TOKEN: influx.token };
    const args = hubArgs(port, storage, admin.identifier, metricsPort);
    const hub = await launch(w, 'the hub', args, 'listening on', env);
    const hubId = /identity: (I[0-9a-f]{64})/.exec(hub.stdout())?.[1];
    expect(hubId, hub.stdout()).to.be.a('string');
    w.identityFile('the hub', join(dir, 'hub.json'));
    return { w, admin, port, metricsPort, hubUrl, env, args, hub, hubId: hubId! };
  }

  function deviceArgs(hubUrl: string, hubId: string, deviceId: string, identity: string, extra: string[] = []): string[] {
    return [
      'device', '--hub', hubUrl, '--hub-identity', hubId, '--identity', identity, '--device-id', deviceId,
      '--interval', '150', '--ttl', '6000', '--influx-url', influx.url, '--log-level', 'info', ...extra,
    ];
  }

  it('on memory storage with a snapshot file: enroll once, revoke, restart the device and the hub, remove the member; no secret printed', async () => {
    const storage = `memory:${join(dir, 'leases.json')}`;
    const started = await secureHub(storage);
    const { w, admin, port, metricsPort, hubUrl, env, hubId } = started;
    let hub = started.hub;
    const health = (await (await fetch(`http://127.0.0.1:${metricsPort}/health`)).json()) as { insecure: boolean; identity: string; warnings?: string[] };
    expect(health).to.include({ insecure: false, identity: hubId });
    expect((health.warnings ?? []).filter((x) => /insecure/.test(x))).to.deep.equal([]);
    const asAdmin = ['--hub', hubUrl, '--identity', admin.file, '--hub-identity', hubId!];

    // one bootstrap token, one use: the token on stdout, its reference on stderr
    const made = w.answered('enroll create-token', await tessera(['enroll', 'create-token', ...asAdmin, '--attr', 'role=device', '--uses', '1']));
    expect(made.code, made.stderr).to.equal(0);
    const token = made.stdout.trim();
    w.secret('the bootstrap token', token);
    expect(made.stdout).to.equal(`${token}\n`);
    expect(made.stderr).to.match(/^token reference \S+, expires \d{4}-/m);

    // the device joins with it and writes
    const devFile = join(dir, 'dev.json');
    const device = await launch(w, 'the device', deviceArgs(hubUrl, hubId!, 'e2e-a', devFile, ['--enroll-token', token]), /lease (\w+) acquired/);
    w.identityFile('the device', devFile);
    const deviceId = (JSON.parse(readFileSync(devFile, 'utf8')) as { identifier: string }).identifier;
    expect(device.stdout()).to.include(`enrolled as ${deviceId} with role=device`);
    const first = /lease (\w+) acquired/.exec(device.stdout())![1]!;
    await waitForOutput(device, /point seq=3 /, 'three points');

    // the same token does not let a second device in
    const other = w.ran('a second device with the used token', await tessera(deviceArgs(hubUrl, hubId!, 'e2e-x', join(dir, 'dev2.json'), ['--enroll-token', token])));
    w.identityFile('the second device', join(dir, 'dev2.json'));
    expect(other.code, other.stdout + other.stderr).to.equal(1);
    expect(other.stderr).to.match(/could not start: .*refused the enroll token/);

    // a revoke from outside: the device meets 401, gets a new lease, replays; no point lost
    const before = w.leaseAnswer(w.answered('lease list (admin)', await tessera(['lease', 'list', ...asAdmin])));
    expect(before.map((l) => l.id)).to.include(first);
    const revoked = w.ran('lease revoke (admin)', await tessera(['lease', 'revoke', first, ...asAdmin]));
    expect(revoked.code, revoked.stderr).to.equal(0);
    await waitForOutput(device, new RegExp(`auth failure: InfluxDB answered 40[13] to lease ${first}`), 'the 401');
    const second = (await waitForOutput(device, new RegExp(`token swapped: lease ${first} -> lease (\\w+)`), 'the swap'))[1]!;
    w.leaseAnswer(w.answered('lease get (admin)', await tessera(['lease', 'get', second, ...asAdmin])));
    const atSwap = device.stdout().length;
    await waitForOutput(device, new RegExp(`point seq=\\d+ .*lease=${second}`), 'a write with the new lease', atSwap);
    expect(await device.stop()).to.equal(0);
    const run1 = stoppedStats(device);
    expect(run1.lost).to.equal(0);
    expect(run1.authFailures).to.be.at.least(1);
    expectEveryPoint(influx, 'e2e-a', run1.written);

    // restarted without the token: the same identity, a new lease, renewed
    const again = await launch(w, 'the device, restarted', deviceArgs(hubUrl, hubId!, 'e2e-b', devFile), /lease (\w+) acquired/);
    expect(again.stdout()).to.include(`identity ${deviceId} (`);
    expect(again.stdout()).to.not.include('enrolled as');
    const third = /lease (\w+) acquired/.exec(again.stdout())![1]!;
    await waitForOutput(again, new RegExp(`lease ${third} renewed`), 'a renewal');
    w.leaseAnswer(w.answered('lease list (admin), device restarted', await tessera(['lease', 'list', ...asAdmin])));

    // the hub restarted on the same snapshot and identity: the device opens a new channel and writes on
    const beforeRestart = again.stdout().length;
    expect(await hub.stop()).to.equal(0);
    hub = await launch(w, 'the hub, restarted', hubArgs(port, storage, admin.identifier, metricsPort), 'listening on', env);
    expect(hub.stdout()).to.include(`identity: ${hubId}`);
    await waitForOutput(again, /secure channel to hub \S+ open/, 'a new channel to the restarted hub', beforeRestart);
    const afterRestart = again.stdout().length;
    const renewedOrNew = await waitForOutput(again, /lease (\w+) (renewed|acquired)/, 'a lease answer from the new hub', afterRestart);
    const current = renewedOrNew[1]!;
    await waitForOutput(again, new RegExp(`point seq=\\d+ .*lease=${current}`), 'writes after the restart', afterRestart);
    const held = w.leaseAnswer(w.answered('lease list (admin), hub restarted', await tessera(['lease', 'list', ...asAdmin])));
    const live = held.find((l) => l.id === current);
    expect(live, `lease ${current} is held after the restart`).to.not.equal(undefined);

    // the member removed: its leases end now, and its next requests are refused
    const lastBeforeRemoval = Math.max(...[...again.stdout().matchAll(/point seq=(\d+) /g)].map((m) => Number(m[1])));
    const removed = w.ran('enroll remove', await tessera(['enroll', 'remove', deviceId, ...asAdmin]));
    expect(removed.code, removed.stderr).to.equal(0);
    await waitForOutput(again, new RegExp(`auth failure: InfluxDB answered 40[13] to lease ${current}`), 'the 401 of the revoked lease', afterRestart);
    expect(await writeStatus(influx, live!.value)).to.equal(401);
    await waitForOutput(again, /lease create failed: .*(not a member|no longer counts .* as a member)/, 'the refusal of a new lease', afterRestart);
    const gone = w.ran('lease get (admin) of the removed member', await tessera(['lease', 'get', current, ...asAdmin]));
    expect(gone.code).to.equal(1);
    expect(gone.stderr).to.match(/\(not_found\)\n$/);
    const refused = w.ran('lease list by the removed member', await tessera(['lease', 'list', '--hub', hubUrl, '--identity', devFile, '--hub-identity', hubId!]));
    expect(refused.code).to.equal(1);
    expect(refused.stderr).to.match(/not a member/);
    expect(await again.stop()).to.equal(0);
    // every point up to the removal is in InfluxDB (those it could not write since are the tail it reports lost)
    const run2 = stoppedStats(again);
    expect(run2.written).to.be.at.least(lastBeforeRemoval);
    expectEveryPoint(influx, 'e2e-b', run2.written);
    expect(await hub.stop()).to.equal(0);

    w.scan();
  });

  it('on Redis: the hub killed and restarted, the enrolled device opens a new channel and writes on; no point lost, no secret printed', async function () {
    const redis = await ownRedis(this);
    try {
      const started = await secureHub(`${redis.url}/0`);
      const { w, admin, hubUrl, env, args, hubId } = started;
      let hub = started.hub;
      const { token } = await createToken(hubUrl, admin.file, { role: 'device' }, ['--uses', '1', '--hub-identity', hubId]);
      w.secret('the bootstrap token', token);

      const devFile = join(dir, 'dev.json');
      // the token from the environment, as the device's help prefers
      const device = await launch(w, 'the device', deviceArgs(hubUrl, hubId, 'e2e-r', devFile), /lease (\w+) acquired/, { TESSERA_ENROLL_TOKEN: token });
      w.identityFile('the device', devFile);
      expect(device.stdout()).to.match(/enrolled as I[0-9a-f]{64} with role=device/);
      await waitForOutput(device, /point seq=3 /, 'three points');
      w.leaseAnswer(w.answered('lease list (admin)', await tessera(['lease', 'list', '--hub', hubUrl, '--identity', admin.file, '--hub-identity', hubId])));

      // killed: no clean stop; the next hub finds its members and leases in Redis
      const beforeKill = device.stdout().length;
      const killed = new Promise((resolve) => hub.child.once('exit', (_code, signal) => resolve(signal)));
      hub.child.kill('SIGKILL');
      expect(await killed).to.equal('SIGKILL');
      hub = await launch(w, 'the hub, restarted', args, 'listening on', env);
      expect(hub.stdout()).to.include(`identity: ${hubId}`);
      await waitForOutput(device, /secure channel to hub \S+ open/, 'a new channel to the restarted hub', beforeKill);
      const afterRestart = device.stdout().length;
      const current = (await waitForOutput(device, /lease (\w+) (renewed|acquired)/, 'a lease answer from the new hub', afterRestart))[1]!;
      await waitForOutput(device, new RegExp(`point seq=\\d+ .*lease=${current}`), 'writes after the restart', afterRestart);
      const held = w.leaseAnswer(w.answered('lease list (admin), hub restarted', await tessera(['lease', 'list', '--hub', hubUrl, '--identity', admin.file, '--hub-identity', hubId])));
      expect(held.map((l) => l.id)).to.include(current);

      expect(await device.stop()).to.equal(0);
      const stats = stoppedStats(device);
      expect(stats.lost).to.equal(0);
      expectEveryPoint(influx, 'e2e-r', stats.written);
      expect(await hub.stop()).to.equal(0);
      w.scan();
    } finally {
      await redis.stop();
    }
  });
});

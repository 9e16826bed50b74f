// `tessera relay create` end to end, the hub and the devices child processes:
// a device reachable only through the hub (it dials out through a TCP proxy the
// test can cut), echo through the relay, again after its connection dropped, a
// second identity refused the name, and a secure channel from a third node to
// the device through the relay, whose plaintext never crosses the hub's
// connections (the test reads every byte on them).
import { expect } from 'chai';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fromUtf8, local, Node, route, type Route, silentLogger, WS } from '@tessera/core';
import { createSecureChannel, Ed25519Identity, saveIdentity, trustIdentifiers } from '@tessera/secure-channel';
import { freePort, startTcpProxy, type TcpProxy, waitUntil } from '@tessera/testing';
import { WebSocketTransport } from '@tessera/transport-ws';
import { hubHops } from '../src/relay-command.js';
import { createIdentity, createToken, type Running, start, tessera, waitForOutput } from './cli-helpers.js';

/** A figure from a hub's Prometheus /metrics: the value of the line that starts with `series` (name and labels). */
async function figure(metricsUrl: string, series: string): Promise<number | undefined> {
  const text = await (await fetch(`${metricsUrl}/metrics`)).text();
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

describe('tessera relay create (child processes)', function () {
  this.timeout(120_000);
  let dir: string;
  const running: Running[] = [];
  const proxies: TcpProxy[] = [];
  const nodes: Node[] = [];

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'tessera-relay-'));
  });
  afterEach(async () => {
    await Promise.all(running.splice(0).map((r) => r.stop()));
    for (const p of proxies.splice(0)) p.close();
    await Promise.all(nodes.splice(0).map((n) => n.stop({ timeout: 100 })));
    rmSync(dir, { recursive: true, force: true });
  });

  async function launch(args: string[], ready: RegExp | string, env: NodeJS.ProcessEnv = {}): Promise<Running> {
    const r = await start(args, ready, env);
    running.push(r);
    return r;
  }

  async function proxy(port: number): Promise<TcpProxy> {
    const p = await startTcpProxy(port);
    proxies.push(p);
    return p;
  }

  function caller(): Node {
    const node = new Node({ name: 'third', logger: silentLogger });
    new WebSocketTransport(node);
    nodes.push(node);
    return node;
  }

  it('relays to a device’s echo, again after its connection dropped; refuses the name to another identity; carries a secure channel the hub cannot read', async () => {
    const admin = await createIdentity(dir, 'admin');
    const port = await freePort();
    const metrics = `http://127.0.0.1:${await freePort()}`;
    const hub = await launch(
      ['hub', '--listen', `127.0.0.1:${port}`, '--identity', join(dir, 'hub.json'), '--admin', admin.identifier, '--metrics', metrics.slice('http://'.length), '--log-level', 'warn'],
      'listening on',
    );
    const hubId = /identity: (I[0-9a-f]{64})/.exec(hub.stdout())?.[1];
    expect(hubId, hub.stdout()).to.be.a('string');
    const hubUrl = `ws://127.0.0.1:${port}`;

    // the third node's identity, the only one the device takes channels from
    const thirdIdentity = Ed25519Identity.generate();
    const { token } = await createToken(hubUrl, admin.file, { role: 'device', relay: 'pump-*' });
    const toDevice = await proxy(port);
    const deviceArgs = (name: string, identity: string, enrollToken: string) => [
      'relay', 'create', name, '--hub', `ws://127.0.0.1:${toDevice.port}`, '--hub-identity', hubId!, '--identity', identity,
      '--enroll-token', enrollToken, '--trust', thirdIdentity.identifier, '--ping-interval', '100', '--timeout', '1000',
    ];
    const device = await launch(deviceArgs('pump-7', join(dir, 'device.json'), token), /relay pump-7 registered/);
    expect(device.stdout()).to.include(`reach this node at 3#ws://127.0.0.1:${toDevice.port} => 0#forward_to_pump-7 => 0#echo`);

    const third = caller();
    const toFront = await proxy(port);
    const viaHub: Route = route({ type: WS, value: `127.0.0.1:${toFront.port}` }, 'forward_to_pump-7');
    expect(fromUtf8((await third.request([...viaHub, local('echo')], 'hello pump')).payload)).to.equal('hello pump');

    // the device's connection drops; the device notices through its liveness check and registers again
    const seen = device.stdout().length;
    toDevice.cut();
    await waitForOutput(device, /relay pump-7 registered/, 'registered again', seen);
    expect(fromUtf8((await third.request([...viaHub, local('echo')], 'hello again')).payload)).to.equal('hello again');

    // another member may take pump-* names, but not the one pump-7's identity holds
    const { token: other } = await createToken(hubUrl, admin.file, { role: 'device', relay: 'pump-*' });
    const squatter = await launch(deviceArgs('pump-7', join(dir, 'other.json'), other), 'identity:');
    await waitUntil('the second identity refused', () => /not allowed: the relay name pump-7 is taken/.test(squatter.stderr()), 30_000, 20);
    expect(fromUtf8((await third.request([...viaHub, local('echo')], 'still pump')).payload)).to.equal('still pump');

    // a secure channel from the third node to the device's listener, through the relay
    const deviceId = /identity: (I[0-9a-f]{64})/.exec(device.stdout())?.[1];
    const channel = await createSecureChannel(third, [...viaHub, local('secure_channel')], { identity: thirdIdentity, trust: trustIdentifiers([deviceId!]) });
    const secret = 'the plaintext the hub must never see: 91c0de';
    expect(fromUtf8((await third.request([channel.address, local('echo')], secret)).payload)).to.equal(secret);
    // both of the hub's connections that carried it, every byte each way: ciphertext only
    expect(toFront.saw('hello pump'), 'the proxy sees plaintext it is sent in the clear').to.equal(true);
    expect(toFront.saw('91c0de')).to.equal(false);
    expect(toDevice.saw('91c0de')).to.equal(false);

    // the hub's figures: one relay held and attached, what it carried, the squatter's refusals, a name nobody holds
    third.send([...route({ type: WS, value: `127.0.0.1:${toFront.port}` }, 'forward_to_pump-8'), local('echo')], 'anyone?');
    await waitUntil('the message to an unknown name counted', async () => (await figure(metrics, 'tessera_relay_messages_dropped{reason="unknown_address"}')) === 1);
    expect(await figure(metrics, 'tessera_relays{state="registered"}')).to.equal(1);
    expect(await figure(metrics, 'tessera_relays{state="attached"}')).to.equal(1);
    expect(await figure(metrics, 'tessera_relay_registrations_total')).to.be.at.least(2); // first, and after the drop
    expect(await figure(metrics, 'tessera_relay_registrations_refused{code="not_allowed"}')).to.be.at.least(1);
    expect(await figure(metrics, 'tessera_relay_messages_forwarded_total{direction="to_device"}')).to.be.at.least(4);
    expect(await figure(metrics, 'tessera_relay_messages_forwarded_total{direction="from_device"}')).to.be.at.least(4);
  });

  it('takes the bootstrap token from TESSERA_ENROLL_TOKEN or --enroll-token-file, never the command line; frees the name when stopped', async () => {
    const admin = await createIdentity(dir, 'admin');
    const port = await freePort();
    const metrics = `http://127.0.0.1:${await freePort()}`;
    await launch(['hub', '--listen', `127.0.0.1:${port}`, '--identity', join(dir, 'hub.json'), '--admin', admin.identifier, '--metrics', metrics.slice('http://'.length), '--log-level', 'warn'], 'listening on');
    const hubUrl = `ws://127.0.0.1:${port}`;
    const help = await tessera(['relay', 'create', '--help']);
    expect(help.stdout.replace(/\s+/g, ' ')).to.include('prefer TESSERA_ENROLL_TOKEN or --enroll-token-file (a flag shows in the process list)');

    const { token: fromEnv } = await createToken(hubUrl, admin.file, { relay: 'tank-*' });
    const { token: fromFile } = await createToken(hubUrl, admin.file, { relay: 'tank-*' });
    const tokenFile = join(dir, 'token');
    writeFileSync(tokenFile, `${fromFile}\n`, { mode: 0o600 });
    // the hub has as long as it needs to answer the delete at the stop: this test checks the name is free after it
    const relayArgs = (name: string) => ['relay', 'create', name, '--hub', hubUrl, '--identity', join(dir, `${name}.json`), '--ping-interval', '100', '--timeout', '10000'];
    const a = await launch(relayArgs('tank-1'), /relay tank-1 registered/, { TESSERA_ENROLL_TOKEN: fromEnv });
    const b = await launch([...relayArgs('tank-2'), '--enroll-token-file', tokenFile], /relay tank-2 registered/);
    for (const [device, token] of [[a, fromEnv], [b, fromFile]] as const) {
      expect(readFileSync(`/proc/${device.child.pid}/cmdline`, 'utf8'), 'the token is not in the process list').to.not.include(token);
      expect(device.stdout() + device.stderr(), 'the token is never printed').to.not.include(token);
    }
    const third = caller();
    for (const name of ['tank-1', 'tank-2']) {
      expect(fromUtf8((await third.request(route({ type: WS, value: `127.0.0.1:${port}` }, `forward_to_${name}`, 'echo'), name)).payload)).to.equal(name);
    }

    // stopped (SIGTERM), a device deletes its relay at the hub before it exits: the name is free at once
    expect(await figure(metrics, 'tessera_relays{state="registered"}')).to.equal(2);
    expect(await a.stop()).to.equal(0);
    expect(await figure(metrics, 'tessera_relays{state="registered"}')).to.equal(1);
    expect(await figure(metrics, 'tessera_relays{state="attached"}')).to.equal(1);
  });

  it('refuses a token given two ways, and a token file it cannot use, naming the file but never its content (exit 2)', async () => {
    const file = join(dir, 'id.json');
    await saveIdentity(file, Ed25519Identity.generate());
    const tokenFile = join(dir, 'token');
    writeFileSync(tokenFile, 'the-secret-in-the-file\n');
    const base = ['relay', 'create', 'pump-1', '--hub', 'ws://127.0.0.1:9', '--identity', file];
    const twice = await tessera([...base, '--enroll-token-file', tokenFile], { TESSERA_ENROLL_TOKEN: 'another-secret' });
    expect(twice.code).to.equal(2);
    expect(twice.stderr).to.match(/give the bootstrap token one way/);
    writeFileSync(tokenFile, '\n');
    const empty = await tessera([...base, '--enroll-token-file', tokenFile]);
    expect(empty.code).to.equal(2);
    expect(empty.stderr).to.include(`--enroll-token-file: ${tokenFile} is empty`);
    const missing = await tessera([...base, '--enroll-token-file', join(dir, 'nowhere')]);
    expect(missing.code).to.equal(2);
    expect(missing.stderr).to.match(/--enroll-token-file: cannot read .*nowhere \(ENOENT\)/);
    for (const r of [twice, empty, missing]) expect(r.stderr + r.stdout).to.not.match(/the-secret-in-the-file|another-secret/);
  });

  it('keeps the relay across a restart of the hub', async () => {
    const admin = await createIdentity(dir, 'admin');
    const port = await freePort();
    const hubArgs = ['hub', '--listen', `127.0.0.1:${port}`, '--identity', join(dir, 'hub.json'), '--storage', `memory:${join(dir, 'leases.json')}`, '--admin', admin.identifier, '--log-level', 'warn'];
    const hub = await launch(hubArgs, 'listening on');
    const hubUrl = `ws://127.0.0.1:${port}`;
    const { token } = await createToken(hubUrl, admin.file, { role: 'device', relay: 'meter-2' });
    const device = await launch(
      ['relay', 'create', 'meter-2', '--hub', hubUrl, '--identity', join(dir, 'device.json'), '--enroll-token', token, '--ping-interval', '100', '--timeout', '1000'],
      /relay meter-2 registered/,
    );
    const third = caller();
    const toEcho = route({ type: WS, value: `127.0.0.1:${port}` }, 'forward_to_meter-2', 'echo');
    expect(fromUtf8((await third.request(toEcho, 'before')).payload)).to.equal('before');

    const seen = device.stdout().length;
    await hub.stop();
    running.splice(running.indexOf(hub), 1);
    // the members are in the snapshot beside the leases': the device is still one, and registers again
    await launch(hubArgs, 'listening on');
    await waitForOutput(device, /relay meter-2 registered/, 'registered with the new hub', seen);
    expect(fromUtf8((await third.request(toEcho, 'after')).payload)).to.equal('after');
    expect(device.stdout() + device.stderr(), 'the enroll token is never printed').to.not.include(token);
  });

  it('takes for --hub one hop to the hub, and refuses a whole route (it kept a relay at the route’s first hub)', () => {
    expect(hubHops('ws://127.0.0.1:4000')).to.deep.equal([{ type: WS, value: 'ws://127.0.0.1:4000' }]);
    expect(hubHops('127.0.0.1:4000')).to.deep.equal([{ type: WS, value: '127.0.0.1:4000' }]);
    expect(hubHops('3#127.0.0.1:4000')).to.deep.equal([{ type: WS, value: '127.0.0.1:4000' }]);
    expect(() => hubHops('3#127.0.0.1:1 => 3#127.0.0.1:2')).to.throw(/reached directly/);
    expect(() => hubHops('3#127.0.0.1:1 => 0#relay')).to.throw(/reached directly/);
  });

  it('refuses a name that is not a relay name (exit 2)', async () => {
    const file = join(dir, 'id.json');
    await saveIdentity(file, Ed25519Identity.generate());
    const r = await start(['relay', 'create', 'Not_A_Name', '--hub', 'ws://127.0.0.1:9', '--identity', file], /$^/).catch((err: Error) => err);
    expect(r).to.be.instanceOf(Error);
    expect((r as Error).message).to.match(/exited with 2/).and.match(/relay name/);
  });
});

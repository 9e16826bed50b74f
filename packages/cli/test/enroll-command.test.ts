import { expect } from 'chai';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Node, route, silentLogger } from '@tessera/core';
import { type InfluxdbLocal, startInfluxdbLocal } from '@tessera/influxdb-local';
import { LeaseClient } from '@tessera/lease-client';
import { Ed25519Identity, loadIdentity, saveIdentity } from '@tessera/secure-channel';
import { freePort } from '@tessera/testing';
import { WebSocketTransport } from '@tessera/transport-ws';
import { createIdentity, type Running, start, tessera } from './cli-helpers.js';

// Against a secure `tessera hub` (child process) whose admin is named by --admin.
describe('tessera enroll and tessera lease --identity (secure channel, child processes)', function () {
  this.timeout(120_000);
  let influx: InfluxdbLocal;
  let hub: Running;
  let hubUrl: string;
  let hubId: string;
  let port: number;
  let dir: string;
  let admin: { file: string; identifier: string };
  let device: { file: string; identifier: string };

  before(async () => {
    influx = await startInfluxdbLocal({ port: 0, org: 'tessera', bucket: 'tessera', token: 'operator-token-for-tests' });
    dir = await mkdtemp(join(tmpdir(), 'tessera-enroll-'));
    admin = await createIdentity(dir, 'admin');
    device = await createIdentity(dir, 'device');
    port = await freePort();
    hubUrl = `ws://127.0.0.1:${port}`;
    hub = await start(
      ['hub', '--listen', `127.0.0.1:${port}`, '--identity', join(dir, 'hub.json'), '--admin', admin.identifier, '--influx-url', influx.url, '--log-level', 'silent'],
      'listening on',
      { INFLUX_TOKEN: influx.token },
    );
    hubId = /identity: (I[0-9a-f]{64})/.exec(hub.stdout())![1]!;
  });
  after(async () => {
    await hub?.stop();
    await influx?.close();
    await rm(dir, { recursive: true, force: true });
  });

  const as = (who: { file: string }) => ['--hub', hubUrl, '--identity', who.file, '--hub-identity', hubId];

  it('create-token prints the token on stdout and its reference on stderr; a device enrolls with it; members and remove see it', async () => {
    const created = await tessera(['enroll', 'create-token', ...as(admin), '--attr', 'role=device', '--attr', 'bucket=tessera', '--uses', '1', '--ttl', '60000']);
    expect(created.code, created.stderr).to.equal(0);
    const token = created.stdout.trim();
    expect(created.stdout).to.match(/^[A-Za-z0-9_-]{43,}\n$/);
    expect(created.stderr).to.match(/^token reference [0-9a-f]{12}, expires \d{4}-\d\d-\d\dT/);
    expect(created.stderr).to.not.include(token);

    // the device joins with it (in this process: the LeaseClient of a device)
    const node = new Node({ name: 'device', logger: silentLogger });
    new WebSocketTransport(node);
    const client = new LeaseClient({ node, hub: route(`3#127.0.0.1:${port}`, 'token_lease'), identity: await loadIdentity(device.file), hubIdentifier: hubId, enrollToken: token, logger: silentLogger });
    await client.start();
    await client.stop({ revoke: true });
    await node.stop();

    const members = await tessera(['enroll', 'members', ...as(admin)]);
    expect(members.code, members.stderr).to.equal(0);
    const listed = JSON.parse(members.stdout) as { result: string; members: { identifier: string; attributes: Record<string, string> }[] };
    expect(listed.members.find((m) => m.identifier === device.identifier)?.attributes).to.deep.equal({ role: 'device', bucket: 'tessera' });
    const table = await tessera(['enroll', 'members', ...as(admin), '--pretty']);
    expect(table.stdout).to.match(/^IDENTIFIER\s+ATTRIBUTES\s+ENROLLED\n/);
    expect(table.stdout).to.match(new RegExp(`${device.identifier}\\s+role=device bucket=tessera\\s+\\d{4}-`));

    // the device's own lease commands go through its channel
    const lease = await tessera(['lease', 'create', ...as(device)]);
    expect(lease.code, lease.stderr).to.equal(0);
    const id = (JSON.parse(lease.stdout) as { lease: { id: string } }).lease.id;
    // the device sees its own lease only; the admin sees it too
    const own = await tessera(['lease', 'list', ...as(device)]);
    expect((JSON.parse(own.stdout) as { leases: { id: string }[] }).leases.map((l) => l.id)).to.deep.equal([id]);
    const all = await tessera(['lease', 'list', ...as(admin)]);
    expect((JSON.parse(all.stdout) as { leases: { id: string }[] }).leases.map((l) => l.id)).to.include(id);
    expect((await tessera(['lease', 'revoke', id, ...as(device)])).code).to.equal(0);

    const removed = await tessera(['enroll', 'remove', device.identifier, ...as(admin)]);
    expect(removed.code, removed.stderr).to.equal(0);
    expect(JSON.parse(removed.stdout)).to.deep.equal({ result: 'success', identifier: device.identifier });
    const after = JSON.parse((await tessera(['enroll', 'members', ...as(admin)])).stdout) as { members: { identifier: string }[] };
    expect(after.members.map((m) => m.identifier)).to.not.include(device.identifier);
    const refused = await tessera(['lease', 'list', ...as(device)]);
    expect(refused.code).to.equal(1);
    expect(refused.stderr).to.match(/^tessera lease: not allowed: .*not a member.* \(not_allowed\)\n$/);
  });

  it('exits 1 when the hub refuses (not an admin) or is not the pinned one, 2 on bad usage, 3 when no hub answers', async () => {
    const stranger = join(dir, 'stranger.json');
    await saveIdentity(stranger, Ed25519Identity.generate());
    const notAdmin = await tessera(['enroll', 'create-token', '--hub', hubUrl, '--identity', stranger, '--attr', 'role=device']);
    expect(notAdmin.code).to.equal(1);
    // without --hub-identity, a warning first, once, naming the hub to pin
    expect(notAdmin.stderr).to.equal(
      `tessera enroll: warning: the hub identity is not pinned: trusting ${hubId}, whichever hub answered; pass --hub-identity ${hubId} (or TESSERA_HUB_IDENTITY) to refuse any other\n` +
        'tessera enroll: not allowed: only admins may make bootstrap tokens (not_allowed)\n',
    );
    expect(notAdmin.stdout).to.equal('');

    const wrongHub = await tessera(['enroll', 'members', '--hub', hubUrl, '--identity', admin.file, '--hub-identity', Ed25519Identity.generate().identifier]);
    expect(wrongHub.code).to.equal(1);
    expect(wrongHub.stderr).to.include(`is ${hubId}, not the trusted`);

    for (const args of [
      ['enroll', 'members', '--hub', hubUrl],
      ['enroll', 'members', '--hub', hubUrl, '--identity', join(dir, 'missing.json')],
      ['enroll', 'create-token', ...as(admin), '--attr', 'role'],
      ['enroll', 'create-token', ...as(admin), '--uses', '0'],
      ['lease', 'list', '--hub', hubUrl],
      ['lease', 'list', '--insecure', '--identity', admin.file, '--hub', hubUrl],
      ['lease', 'list', '--identity', admin.file, '--hub-identity', 'hub-1', '--hub', hubUrl],
    ]) {
      const r = await tessera(args);
      expect(r.code, `${args.join(' ')}: ${r.stderr}`).to.equal(2);
      expect(r.stderr.length).to.be.greaterThan(0);
    }
    const missing = await tessera(['enroll', 'members', '--hub', hubUrl, '--identity', join(dir, 'missing.json')]);
    expect(missing.stderr).to.include('tessera identity create --out');

    const port = await freePort();
    const down = await tessera(['enroll', 'members', '--hub', `ws://127.0.0.1:${port}`, '--identity', admin.file, '--timeout', '2000']);
    expect(down.code).to.equal(3);
    expect(down.stderr).to.match(/did not answer/);
  });
});

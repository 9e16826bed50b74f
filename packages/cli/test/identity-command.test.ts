import { expect } from 'chai';
import { lstat, mkdtemp, readdir, readFile, rm, stat, symlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Node, fromUtf8, local, route, silentLogger } from '@tessera/core';
import { createSecureChannel, Ed25519Identity, trustIdentifiers } from '@tessera/secure-channel';
import { WebSocketTransport } from '@tessera/transport-ws';
import { freePort } from '@tessera/testing';
import { start, tessera } from './cli-helpers.js';

describe('tessera identity and tessera node --identity', function () {
  this.timeout(60_000);
  let dir: string;
  beforeEach(async () => (dir = await mkdtemp(join(tmpdir(), 'tessera-id-'))));
  afterEach(() => rm(dir, { recursive: true, force: true }));

  it('creates an identity file (0600) that show reads back, and never overwrites one', async () => {
    const file = join(dir, 'me.json');
    const created = await tessera(['identity', 'create', '--out', file]);
    expect(created.code).to.equal(0);
    const identifier = created.stdout.trim();
    expect(identifier).to.match(/^I[0-9a-f]{64}$/);
    expect((await stat(file)).mode & 0o777).to.equal(0o600);
    expect(created.stdout + created.stderr).to.not.include(JSON.parse(await readFile(file, 'utf8')).private_key);
    const shown = await tessera(['identity', 'show', '--identity', file]);
    expect(shown.stdout.trim()).to.equal(identifier);
    const again = await tessera(['identity', 'create', '--out', file]);
    expect(again.code).to.equal(1);
    expect(again.stderr).to.include('exists already');
    expect((await tessera(['identity', 'show', '--identity', file])).stdout.trim()).to.equal(identifier);
  });

  it('never overwrites what is at --out, even a dangling symbolic link (it looks absent to a check first, then write): nothing is left beside it', async () => {
    const link = join(dir, 'planted.json');
    await symlink(join(dir, 'nowhere', 'target.json'), link);
    const refused = await tessera(['identity', 'create', '--out', link]);
    expect(refused.code, refused.stderr).to.equal(1);
    expect(refused.stderr).to.include('exists already');
    expect(refused.stdout).to.equal('');
    expect((await lstat(link)).isSymbolicLink(), 'the link is still there').to.equal(true);
    expect(await readdir(dir)).to.deep.equal(['planted.json']);
  });

  it('runs a node whose secure-channel listener has the identity of the file, warns that it trusts everyone, and echoes through channels', async () => {
    const file = join(dir, 'node.json');
    const identifier = (await tessera(['identity', 'create', '--out', file])).stdout.trim();
    const port = await freePort();
    const node = await start(['node', '--listen', `127.0.0.1:${port}`, '--identity', file], 'listening on');
    try {
      expect(node.stdout()).to.include(`identity: ${identifier}`);
      const client = new Node({ logger: silentLogger });
      new WebSocketTransport(client);
      const channel = await createSecureChannel(client, route(`3#127.0.0.1:${port}`, 'secure_channel'), {
        identity: Ed25519Identity.generate(),
        trust: trustIdentifiers([identifier]),
      });
      const reply = await client.request([channel.address, local('echo')], 'through the channel');
      expect(fromUtf8(reply.payload)).to.equal('through the channel');
      expect(reply.local.identity).to.equal(identifier);
      await client.stop();
      expect(node.stderr()).to.include('TRUST EVERYONE');
    } finally {
      await node.stop();
    }
  });
});

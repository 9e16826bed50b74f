// `tessera console` as a child process, against a secure hub in this process,
// with an admin's identity file: it prints a one-time login link that logs a
// browser in, and the view it streams holds the hub's leases.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { silentLogger } from '@tessera/core';
import { createIdentityFile, Ed25519Identity } from '@tessera/secure-channel';
import { waitUntil } from '@tessera/testing';
import { HubConfigSchema } from '../src/hub/hub-config.js';
import { type Hub, startHub } from '../src/hub/start-hub.js';
import { type Running, start, tessera } from './cli-helpers.js';

describe('tessera console', function () {
  this.timeout(60_000);
  let dir: string;
  let hub: Hub | undefined;
  let running: Running | undefined;

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'tessera-console-cmd-'));
  });
  afterEach(async () => {
    await running?.stop();
    running = undefined;
    await hub?.stop();
    hub = undefined;
    rmSync(dir, { recursive: true, force: true });
  });

  it('serves the view of the hub to the browser that opens its login link, once', async () => {
    const adminFile = join(dir, 'admin.json');
    const admin = Ed25519Identity.generate();
    await createIdentityFile(adminFile, admin);
    hub = await startHub(HubConfigSchema.parse({ listen: '127.0.0.1:0', identity: join(dir, 'hub.json'), logLevel: 'silent', admin: [admin.identifier] }), silentLogger);
    running = await start(
      ['console', '--hub', hub.listener.url, '--identity', adminFile, '--hub-identity', hub.secure!.identifier, '--listen', '127.0.0.1:0'],
      /log in once with \S+/,
    );
    const link = /log in once with (\S+)/.exec(running.stdout())![1]!;
    const login = await fetch(link, { redirect: 'manual' });
    expect(login.status).to.equal(303);
    const cookie = login.headers.get('set-cookie')!.split(';')[0]!;
    expect((await fetch(link, { redirect: 'manual' })).status, 'once').to.equal(401);
    const page = await fetch(new URL('/', link));
    expect(page.status, 'the page is built and served').to.equal(200);
    expect(page.headers.get('content-security-policy')).to.match(/default-src 'none'/);

    const events = await fetch(new URL('/api/events', link), { headers: { cookie } });
    expect(events.status).to.equal(200);
    const reader = events.body!.getReader();
    let text = '';
    // the first view may come before the subscription is live: read until the console says it is
    while (!/"connected":true/.test(text)) {
      const { value, done } = await reader.read();
      if (done) break;
      text += Buffer.from(value).toString('utf8');
    }
    await reader.cancel();
    expect(text).to.include(hub.secure!.identifier);
    expect(running.stderr(), 'on loopback: no warning').to.not.match(/not loopback/);
  });

  it('warns when it serves beyond loopback: the login link and the cookie travel unencrypted', async () => {
    const adminFile = join(dir, 'admin.json');
    await createIdentityFile(adminFile, Ed25519Identity.generate());
    running = await start(['console', '--hub', 'ws://127.0.0.1:1', '--identity', adminFile, '--listen', '0.0.0.0:0'], /log in once with \S+/);
    await waitUntil('the warning', () => /warning: --listen 0\.0\.0\.0 is not loopback/.test(running!.stderr()));
    expect(running.stderr()).to.match(/unencrypted/);
  });

  it('exits 2 on a usage error', async () => {
    const r = await tessera(['console', '--identity', join(dir, 'missing.json'), '--hub', 'ws://127.0.0.1:1']);
    expect(r.code).to.equal(2);
    expect(r.stderr).to.match(/no identity file/);
  });
});

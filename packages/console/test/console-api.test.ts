// The console's HTTP API against a real secure hub: the one-time login, 401
// without it, Origin and Host checks, bodies read with zod, the view pushed
// with server-sent events, and the admin's actions carried out on the hub.
import { request } from 'node:http';
import { expect } from 'chai';
import { waitUntil, writeStatus } from '@tessera/testing';
import { type ConsoleFixture, logIn, readEvents, startConsoleFixture } from './console-fixture.js';

describe('the console’s HTTP API', function () {
  this.timeout(60_000);
  let fx: ConsoleFixture;

  beforeEach(async () => {
    fx = await startConsoleFixture();
  });
  afterEach(async () => {
    await fx.stop();
  });

  const post = (path: string, body: unknown, headers: Record<string, string>) =>
    fetch(new URL(path, fx.console.url), { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) });

  it('refuses every API request without the login, and takes each login link once', async () => {
    const origin = new URL(fx.console.url).origin;
    expect((await fetch(new URL('/api/events', fx.console.url))).status).to.equal(401);
    expect((await post('/api/revoke', { id: 'x' }, { origin })).status).to.equal(401);
    expect((await fetch(new URL('/login?token=wrong', fx.console.url), { redirect: 'manual' })).status).to.equal(401);

    const link = fx.console.loginUrl;
    const first = await fetch(link, { redirect: 'manual' });
    expect(first.status).to.equal(303);
    const cookie = first.headers.get('set-cookie')!;
    expect(cookie).to.match(/HttpOnly/).and.to.match(/SameSite=Strict/);
    expect((await fetch(link, { redirect: 'manual' })).status, 'a link works once').to.equal(401);
    expect(fx.console.loginUrl, 'a new link for the next browser').to.not.equal(link);
    const res = await fetch(new URL('/api/events', fx.console.url), { headers: { cookie: cookie.split(';')[0]! } });
    expect(res.status).to.equal(200);
    await res.body!.cancel();
  });

  it('refuses a change from another origin, without an Origin, to another Host, or with a body its schema refuses', async () => {
    const cookie = await logIn(fx.console);
    const origin = new URL(fx.console.url).origin;
    const device = await fx.device();
    const lease = (await device.ask('token_lease', { action: 'create', options: {} })).lease!;
    expect((await post('/api/revoke', { id: lease.id }, { cookie, origin: 'http://evil.example' })).status).to.equal(403);
    expect((await post('/api/revoke', { id: lease.id }, { cookie })).status).to.equal(403);
    // a page on another site whose DNS name points here (DNS rebinding) names its own Host: fetch cannot, node:http can
    const rebound = await new Promise<number>((resolve, reject) => {
      const url = new URL('/api/revoke', fx.console.url);
      const req = request(url, { method: 'POST', headers: { cookie, origin: 'http://evil.example:80', host: 'evil.example', 'content-type': 'application/json' } }, (res) => {
        res.resume();
        resolve(res.statusCode!);
      });
      req.on('error', reject);
      req.end(JSON.stringify({ id: lease.id }));
    });
    expect(rebound).to.equal(421);
    expect((await post('/api/revoke', { id: lease.id, extra: 1 }, { cookie, origin })).status).to.equal(400);
    expect((await post('/api/tokens', { attributes: { 'bad name': 'x' }, uses: 1 }, { cookie, origin })).status).to.equal(400);
    const notJson = await fetch(new URL('/api/revoke', fx.console.url), { method: 'POST', headers: { cookie, origin, 'content-type': 'text/plain' }, body: lease.id });
    expect(notJson.status).to.equal(415);
    // none of these touched the lease
    expect(await writeStatus(fx.hub.influx!, lease.value)).to.equal(204);
  });

  it('pushes the view and its changes without a lease value, and carries out revoke, make token and remove', async () => {
    const cookie = await logIn(fx.console);
    const origin = new URL(fx.console.url).origin;
    const device = await fx.device({ role: 'device', site: 'north' });
    const lease = (await device.ask('token_lease', { action: 'create', options: {} })).lease!;
    const stream = await fetch(new URL('/api/events', fx.console.url), { headers: { cookie } });
    const seen = readEvents(stream, (events) =>
      events.some((e) => e.event === 'event' && (e.data as { event: string; id?: string }).event === 'lease_revoked' && (e.data as { id: string }).id === lease.id),
    );
    await waitUntil('the console to hold the lease', async () => {
      const res = await fetch(new URL('/api/events', fx.console.url), { headers: { cookie } });
      const [view] = await readEvents(res, (e) => e.length > 0);
      return Object.hasOwn((view!.data as { leases: object }).leases, lease.id);
    });

    const revoked = await post('/api/revoke', { id: lease.id }, { cookie, origin });
    expect(revoked.status).to.equal(200);
    expect(await writeStatus(fx.hub.influx!, lease.value)).to.equal(401);
    const events = await seen;
    const text = JSON.stringify(events);
    expect(text.includes(lease.value), 'a lease value reached the page').to.equal(false);

    const made = await post('/api/tokens', { attributes: { role: 'device', site: 'south' }, uses: 1, ttlMinutes: 10 }, { cookie, origin });
    expect(made.status).to.equal(200);
    expect(made.headers.get('cache-control')).to.equal('no-store');
    const { token } = (await made.json()) as { token: string };
    const newcomer = await fx.enrollWith(token);
    expect((await fx.hub.secure!.authority.membership(newcomer.identity.identifier))?.attributes).to.deep.equal({ role: 'device', site: 'south' });

    expect((await post('/api/members/remove', { identifier: newcomer.identity.identifier }, { cookie, origin })).status).to.equal(200);
    expect(await fx.hub.secure!.authority.membership(newcomer.identity.identifier)).to.equal(undefined);
    const again = await post('/api/members/remove', { identifier: newcomer.identity.identifier }, { cookie, origin });
    expect(again.status, 'the hub’s not_found').to.equal(404);
  });
});

// The console's page in a real browser (Debian's chromium, playwright-core),
// against a real secure hub, real devices and influxdb-local: what an
// operator sees and does. Writes the screenshots docs/console.md shows.
import { createServer, type Server } from 'node:http';
import { mkdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { AddressInfo } from 'node:net';
import { expect } from 'chai';
import type { Page } from 'playwright-core';
import { silentLogger } from '@tessera/core';
import { Device, resolveDeviceOptions } from '@tessera/device';
import { Ed25519Identity } from '@tessera/secure-channel';
import { waitUntil, writeStatus } from '@tessera/testing';
import { openBrowser, type OpenBrowser } from './browser.js';
import { type ConsoleFixture, startConsoleFixture } from './console-fixture.js';
import { startConsole } from '../src/start-console.js';

const SCREENSHOTS = fileURLToPath(new URL('../../../docs/console/', import.meta.url));

/** Records every server-sent event's data the page receives (EventSource is what streams them). */
const RECORD_STREAM = `(() => {
  window.__streamed = [];
  const Native = window.EventSource;
  window.EventSource = class extends Native {
    constructor(...args) {
      super(...args);
      for (const name of ['view', 'event', 'link']) this.addEventListener(name, (e) => window.__streamed.push(e.data));
    }
  };
})();`;

describe('the console’s page in a real browser', function () {
  this.timeout(120_000);
  let fx: ConsoleFixture;
  let browser: OpenBrowser | undefined;
  const devices: Device[] = [];
  /** Every lease value the hub made during the test: none may reach the page. */
  const values: string[] = [];
  /** Bodies of every response the page received that is not a stream (streams are recorded by RECORD_STREAM). */
  const bodies: string[] = [];

  beforeEach(async function () {
    browser = await openBrowser(this);
    fx = await startConsoleFixture();
    values.length = 0;
    bodies.length = 0;
    fx.hub.service.on('created', (e) => {
      void fx.hub.service.storage.get(e.id).then((r) => r !== undefined && values.push(r.value));
    });
  });
  afterEach(async () => {
    await Promise.allSettled(devices.splice(0).map((d) => d.stop()));
    await browser?.close();
    browser = undefined;
    await fx?.stop();
  });

  /** A logged-in page (the login link opened), recording what it receives, once it says it is live. */
  async function loggedInPage(): Promise<Page> {
    const page = browser!.context.pages()[0] ?? (await browser!.context.newPage());
    await page.addInitScript(RECORD_STREAM);
    page.on('response', (res) => {
      if ((res.headers()['content-type'] ?? '').startsWith('text/event-stream')) return;
      void res.text().then((t) => bodies.push(t), () => undefined);
    });
    await page.goto(fx.console.loginUrl);
    await page.getByRole('status').filter({ hasText: 'live' }).waitFor();
    return page;
  }

  async function startDevice(id: string): Promise<Device> {
    const made = await fx.hub.secure!.authority.createToken({ attributes: { role: 'device', site: id } });
    const influx = fx.hub.influx!;
    const device = new Device(
      resolveDeviceOptions({
        hub: fx.hub.listener.url,
        deviceId: id,
        influxUrl: influx.url,
        org: influx.org,
        bucket: influx.bucket,
        interval: 200,
        ttl: 60_000,
        measurement: 'console_test',
        identity: Ed25519Identity.generate(),
        enrollToken: made.token,
        hubIdentifier: fx.hub.secure!.identifier,
        logger: silentLogger,
      }),
    );
    devices.push(device);
    return device;
  }

  function firstLease(device: Device, except?: string): Promise<string> {
    return new Promise((resolve) => {
      const on = ({ lease }: { lease: { id: string } }) => {
        if (lease.id === except) return;
        device.off('lease', on);
        resolve(lease.id);
      };
      device.on('lease', on);
    });
  }

  /** No lease value in the DOM, in what the page was streamed, or in any other response it received. */
  async function expectNoLeaseValue(page: Page): Promise<void> {
    expect(values.length, 'the test saw lease values to look for').to.be.greaterThan(0);
    const dom = await page.content();
    const streamed = await page.evaluate(() => (globalThis as unknown as { __streamed: string[] }).__streamed.join('\n'));
    expect(streamed.length, 'the page was streamed the view').to.be.greaterThan(0);
    for (const value of values) {
      expect(dom.includes(value), 'a lease value in the DOM').to.equal(false);
      expect(streamed.includes(value), 'a lease value in the stream').to.equal(false);
      for (const body of bodies) expect(body.includes(value), 'a lease value in a response').to.equal(false);
    }
  }

  it('shows a device’s lease as it is issued; revoke makes the device meet a 401 and renew, and the new lease replaces the old row', async () => {
    const page = await loggedInPage();
    const device = await startDevice('pump-7');
    const leased = firstLease(device);
    await device.start();
    const first = await leased;
    const row = page.locator(`tr[data-lease-id="${first}"]`);
    // how soon (issue 13: within 2 s) is bench/console-latency.bench.ts's figure: a wall-clock bound here could flake on a busy machine
    await row.waitFor();
    expect(await row.locator('td').nth(1).textContent()).to.match(/site=pump-7/);

    // a second device, so the views have more than one of everything, then the screenshots
    const other = await startDevice('fan-2');
    const otherLeased = firstLease(other);
    await other.start();
    await page.locator(`tr[data-lease-id="${await otherLeased}"]`).waitFor();
    mkdirSync(SCREENSHOTS, { recursive: true });
    await page.screenshot({ path: `${SCREENSHOTS}console-desktop.png`, fullPage: true });

    const unauthorized = new Promise<void>((resolve) =>
      device.on('auth-failure', (e) => {
        if (e.leaseId === first && e.status === 401) resolve();
      }),
    );
    const renewed = firstLease(device, first);
    await row.getByRole('button', { name: /Revoke/ }).click();
    await unauthorized;
    const second = await renewed;
    await page.locator(`tr[data-lease-id="${second}"]`).waitFor();
    await row.waitFor({ state: 'detached' });
    expect(device.stats().pointsLost).to.equal(0);

    await page.setViewportSize({ width: 390, height: 844 });
    await page.screenshot({ path: `${SCREENSHOTS}console-phone.png`, fullPage: true });
    await expectNoLeaseValue(page);
  });

  it('makes a bootstrap token with the keyboard, shows it once, and the device that enrolls with it joins the members table', async () => {
    const page = await loggedInPage();
    const device = await startDevice('valve-1'); // a lease to look for in the scan
    const leased = firstLease(device);
    await device.start();
    await page.locator(`tr[data-lease-id="${await leased}"]`).waitFor();

    await page.getByLabel('Attributes').focus();
    await page.keyboard.press('Control+A');
    await page.keyboard.type('role=device site=browser');
    await page.keyboard.press('Tab');
    await page.keyboard.type('1');
    await page.keyboard.press('Enter');
    const field = page.locator('#token-value');
    await field.waitFor();
    const token = await field.inputValue();
    expect(token).to.match(/^[A-Za-z0-9_-]{43,}$/);
    await page.screenshot({ path: `${SCREENSHOTS}console-token.png`, clip: (await page.locator('#made-token').boundingBox())!, mask: [field] });

    const newcomer = await fx.enrollWith(token);
    const member = page.locator(`tr[data-member-id="${newcomer.identity.identifier}"]`);
    await member.waitFor();
    expect(await member.textContent()).to.include('site=browser');
    await page.getByRole('button', { name: 'Done' }).click();
    await field.waitFor({ state: 'detached' });
    expect((await page.content()).includes(token), 'the bootstrap token stays on the page after Done').to.equal(false);
    await expectNoLeaseValue(page);
  });

  it('refuses the API without the login link (401) and a change from another origin', async () => {
    const device = await fx.device();
    const lease = (await device.ask('token_lease', { action: 'create', options: {} })).lease!;

    // not logged in: the page says how to log in, the API answers 401
    const page = browser!.context.pages()[0] ?? (await browser!.context.newPage());
    await page.goto(fx.console.url);
    await page.getByRole('alert').filter({ hasText: 'Not logged in' }).waitFor();
    expect((await browser!.context.request.get(new URL('/api/events', fx.console.url).href)).status()).to.equal(401);
    expect((await browser!.context.request.post(new URL('/api/revoke', fx.console.url).href, { data: { id: lease.id } })).status()).to.equal(401);

    // logged in: a POST naming another origin is refused, even with the cookie
    await page.goto(fx.console.loginUrl);
    await page.getByRole('status').filter({ hasText: 'live' }).waitFor();
    const forged = await browser!.context.request.post(new URL('/api/revoke', fx.console.url).href, { data: { id: lease.id }, headers: { origin: 'http://evil.example' } });
    expect(forged.status()).to.equal(403);

    // a page of another origin that posts to the console from the logged-in browser
    const evil = await evilSite(new URL('/api/revoke', fx.console.url).href, lease.id);
    try {
      const answered = page.waitForResponse((res) => res.url().startsWith(fx.console.url) && res.request().method() === 'POST');
      await page.goto(evil.url);
      // same site (loopback, another port): the cookie goes along, and the Origin check refuses it
      expect((await answered).status()).to.equal(403);
    } finally {
      evil.server.close();
    }
    expect(await writeStatus(fx.hub.influx!, lease.value), 'the lease still works').to.equal(204);
    await waitUntil('the hub to still hold the lease', async () => (await fx.hub.service.storage.get(lease.id)) !== undefined);
  });

  it('keeps a browser logged in to two consoles on one machine (another port each)', async () => {
    const other = await startConsole({ hub: fx.hub.listener.url, identity: fx.admin, hubIdentifier: fx.hub.secure!.identifier, port: 0, logger: silentLogger });
    try {
      const first = await loggedInPage();
      const second = await browser!.context.newPage();
      await second.goto(other.loginUrl);
      await second.getByRole('status').filter({ hasText: 'live' }).waitFor();
      // the first console's page, loaded again after the second login: still logged in
      await first.reload();
      const live = first.getByRole('status').filter({ hasText: 'live' });
      await live.or(first.getByRole('alert').filter({ hasText: 'Not logged in' })).waitFor();
      expect(await live.isVisible(), 'the first console still knows this browser').to.equal(true);
    } finally {
      await other.stop();
    }
  });
});

/** A page on another origin (another loopback port) whose form posts to `target` as soon as it loads. */
async function evilSite(target: string, leaseId: string): Promise<{ server: Server; url: string }> {
  const html = `<!doctype html><form id="f" method="POST" action="${target}" enctype="text/plain"><input name='{"id":"${leaseId}","x":"' value='"}'></form><script>document.getElementById('f').submit()</script>`;
  const server = createServer((_req, res) => res.writeHead(200, { 'content-type': 'text/html' }).end(html));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  return { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/` };
}

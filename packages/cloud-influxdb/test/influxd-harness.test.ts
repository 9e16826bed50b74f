import { existsSync } from 'node:fs';
import { expect } from 'chai';
import { basic, influxdOrSkip } from './helpers.js';

describe('startInfluxd (the 1.x harness these tests use)', function () {
  this.timeout(30_000);

  it('serves on a free loopback port with auth enforced, and stop() kills it and removes its directory', async function () {
    const influxd = await influxdOrSkip(this);
    try {
      expect(influxd.url).to.match(/^http:\/\/127\.0\.0\.1:\d+$/);
      expect((await fetch(`${influxd.url}/ping`)).status).to.equal(204);
      const anonymous = await fetch(`${influxd.url}/query`, { method: 'POST', body: new URLSearchParams({ q: 'SHOW USERS' }) });
      expect(anonymous.status).to.equal(401);
      const admin = await fetch(`${influxd.url}/query`, {
        method: 'POST',
        headers: { authorization: basic(influxd.adminUser, influxd.adminPassword) },
        body: new URLSearchParams({ q: 'SHOW USERS' }),
      });
      expect(await admin.text()).to.contain(`["${influxd.adminUser}",true]`);
    } finally {
      await influxd.stop();
    }
    expect(existsSync(influxd.dir)).to.equal(false);
    let refused = false;
    try {
      await fetch(`${influxd.url}/ping`);
    } catch {
      refused = true;
    }
    expect(refused).to.equal(true);
  });

  it('two at once get different ports', async function () {
    const [a, b] = await Promise.all([influxdOrSkip(this), influxdOrSkip(this)]);
    try {
      expect(a.url).not.to.equal(b.url);
    } finally {
      await Promise.all([a.stop(), b.stop()]);
    }
  });
});

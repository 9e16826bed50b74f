import { expect } from 'chai';
import { freePort, type RunningInfluxd } from '@tessera/testing';
import { ownInfluxd, type Running, start, tessera } from './cli-helpers.js';

/** HTTP status of a 1.x /write with a lease's `username:password` as Basic auth. */
async function write1x(url: string, credential: string): Promise<number> {
  const res = await fetch(`${url}/write?db=metrics`, {
    method: 'POST',
    headers: { authorization: `Basic ${Buffer.from(credential).toString('base64')}` },
    body: `probe value=1 ${Date.now()}000000`,
  });
  return res.status;
}

describe('tessera hub --cloud influxdb-v1 (a real influxd)', function () {
  this.timeout(60_000);
  let influxd: RunningInfluxd;
  let hub: Running;
  let url: string;

  before(async function () {
    influxd = await ownInfluxd(this, ['metrics']);
    const port = await freePort();
    hub = await start(
      ['hub', '--cloud', 'influxdb-v1', '--influx-url', influxd.url, '--influx-bucket', 'metrics', '--listen', `127.0.0.1:${port}`, '--insecure', '--log-level', 'silent'],
      'listening on',
      { INFLUX_USERNAME: influxd.adminUser, INFLUX_PASSWORD: influxd.adminPassword },
    );
    url = `ws://127.0.0.1:${port}`;
  });
  after(async () => {
    await hub?.stop();
    await influxd?.stop();
  });

  it('leases a user that writes to the --influx-bucket database until it is revoked', async () => {
    const created = await tessera(['lease', 'create', '--insecure', '--hub', url, '--ttl', '60000']);
    expect(created.code, created.stderr).to.equal(0);
    const lease = (JSON.parse(created.stdout) as { lease: { id: string; value: string } }).lease;
    expect(lease.value.startsWith(`${lease.id}:`)).to.equal(true);
    expect(await write1x(influxd.url, lease.value)).to.equal(204);
    expect((await tessera(['lease', 'revoke', '--insecure', lease.id, '--hub', url])).code).to.equal(0);
    expect(await write1x(influxd.url, lease.value)).to.equal(401);
  });
});

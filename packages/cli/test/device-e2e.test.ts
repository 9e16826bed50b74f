import { expect } from 'chai';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startInfluxdbLocal, type InfluxdbLocal } from '@tessera/influxdb-local';
import { freePort, writeStatus } from '@tessera/testing';
import { type Running, start, tessera, waitForOutput } from './cli-helpers.js';

describe('tessera hub + tessera device + tessera lease revoke (child processes)', function () {
  this.timeout(90_000);
  let influx: InfluxdbLocal;
  let hub: Running;
  let hubUrl: string;
  let sinkDir: string | undefined;

  before(async () => {
    influx = await startInfluxdbLocal({ port: 0, org: 'tessera', bucket: 'tessera', token: 'e2e-operator-token' });
    const port = await freePort();
    hub = await start(
      ['hub', '--listen', `127.0.0.1:${port}`, '--influx-url', influx.url, '--insecure', '--log-level', 'warn', '--default-ttl', '60000'],
      'listening on',
      { INFLUX_TOKEN: influx.token },
    );
    hubUrl = `ws://127.0.0.1:${port}`;
  });
  after(async () => {
    await hub?.stop();
    await influx?.close();
    if (sinkDir !== undefined) rmSync(sinkDir, { recursive: true, force: true });
  });

  it('a lease revoked from the CLI mid-run: the device meets 401, gets a new lease, writes on, and no point is lost', async () => {
    const device = await start(
      ['device', '--insecure', '--hub', hubUrl, '--device-id', 'e2e-1', '--interval', '200', '--influx-url', influx.url, '--influx-org', 'tessera', '--influx-bucket', 'tessera'],
      /lease (\w+) acquired/,
    );
    const first = /lease (\w+) acquired/.exec(device.stdout())![1]!;
    await waitForOutput(device, /point seq=3 /, 'three points');

    const listed = await tessera(['lease', 'list', '--insecure', '--hub', hubUrl]);
    expect(JSON.parse(listed.stdout).leases.map((l: { id: string }) => l.id)).to.include(first);
    const revoked = await tessera(['lease', 'revoke', '--insecure', first, '--hub', hubUrl]);
    expect(revoked.code, revoked.stderr).to.equal(0);

    await waitForOutput(device, new RegExp(`auth failure: InfluxDB answered 40[13] to lease ${first}`), 'the 401');
    const swapped = await waitForOutput(device, new RegExp(`token swapped: lease ${first} -> lease (\\w+)`), 'the swap');
    const second = swapped[1]!;
    expect(second).to.not.equal(first);
    const seqAtSwap = Number([...device.stdout().matchAll(/point seq=(\d+)/g)].at(-1)?.[1] ?? 0);
    await waitForOutput(device, new RegExp(`point seq=${seqAtSwap + 3} .*lease=${second}`), 'writes with the new lease');

    expect(await device.stop()).to.equal(0);
    const stopped = /stopped: written=(\d+) failed=(\d+) lost=(\d+) auth-failures=(\d+)/.exec(device.stdout());
    expect(stopped, device.stdout()).to.not.equal(null);
    const [, written, , lost, authFailures] = stopped!.map(Number);
    expect(lost).to.equal(0);
    expect(authFailures).to.be.at.least(1);
    const points = influx.points({ bucket: 'tessera', measurement: 'device_metrics', tags: { device: 'e2e-1' } });
    expect(points.length).to.equal(written);
    const seqs = points.map((p) => Number(String(p.fields['seq']).replace(/i$/, ''))).sort((a, b) => a - b);
    expect(seqs).to.deep.equal(Array.from({ length: written! }, (_, i) => i + 1));
  });

  it('tessera lease watch keeps a file holding a working token, and revokes the lease on exit', async () => {
    sinkDir = mkdtempSync(join(tmpdir(), 'tessera-watch-'));
    const sink = join(sinkDir, 'token.txt');
    const watch = await start(['lease', 'watch', '--insecure', '--hub', hubUrl, '--sink', sink, '--ttl', '30000'], /acquired lease (\w+)/);
    const id = /acquired lease (\w+)/.exec(watch.stdout())![1]!;
    const content = readFileSync(sink, 'utf8');
    expect(content).to.match(/^[A-Za-z0-9_-]{86}==\n$/);
    expect(statSync(sink).mode & 0o777).to.equal(0o600);
    expect(watch.stdout()).to.not.include(content.trim());
    const token = content.trim();
    const write = () => writeStatus(influx, token);
    expect(await write()).to.equal(204);
    expect(await watch.stop()).to.equal(0);
    expect(watch.stdout()).to.include(`revoked lease ${id}`);
    expect(await write()).to.equal(401);
  });
});

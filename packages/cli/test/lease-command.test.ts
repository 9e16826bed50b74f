import { expect } from 'chai';
import { writeFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from '@tessera/testing';
import { type Running, start, tessera } from './cli-helpers.js';

describe('tessera hub and tessera lease (child processes)', function () {
  // each step starts a node process; on a loaded 2-core machine one start can take seconds
  this.timeout(120_000);
  let hub: Running;
  let url: string;
  before(async () => {
    const port = await freePort();
    hub = await start(['hub', '--listen', `127.0.0.1:${port}`, '--insecure', '--log-level', 'silent', '--min-ttl', '500', '--default-ttl', '60000', '--max-ttl', '600000'], 'listening on');
    url = `ws://127.0.0.1:${port}`;
  });
  after(async () => {
    expect(await hub.stop()).to.equal(0);
  });

  it('prints where it listens and the in-process InfluxDB', () => {
    expect(hub.stdout()).to.include(`tessera hub listening on ${url}`);
    expect(hub.stdout()).to.match(/influxdb-local: http:\/\/127\.0\.0\.1:\d+ org=tessera bucket=tessera/);
  });

  it('create → get → renew → list → revoke, each printing the JSON response and exiting 0', async () => {
    const created = await tessera(['lease', 'create', '--insecure', '--hub', url, '--ttl', '60000', '--request-id', 'cli-1']);
    expect(created.code, created.stderr).to.equal(0);
    const c = JSON.parse(created.stdout) as { result: string; request_id: string; lease: { id: string; value: string; ttl: number } };
    expect(c.result).to.equal('success');
    expect(c.request_id).to.equal('cli-1');
    expect(c.lease.ttl).to.equal(60000);
    const id = c.lease.id;

    const got = await tessera(['lease', 'get', '--insecure', id, '--hub', url]);
    expect(got.code).to.equal(0);
    expect(JSON.parse(got.stdout).lease.id).to.equal(id);

    const renewed = await tessera(['lease', 'renew', '--insecure', id, '--hub', url, '--ttl', '120000']);
    expect(renewed.code).to.equal(0);
    expect(JSON.parse(renewed.stdout).lease.ttl).to.equal(120000);

    const listed = await tessera(['lease', 'list', '--insecure', '--hub', url]);
    expect(JSON.parse(listed.stdout).leases.map((l: { id: string }) => l.id)).to.include(id);

    const table = await tessera(['lease', 'list', '--insecure', '--hub', url, '--pretty']);
    expect(table.stdout).to.match(/^ID\s+TTL \(ms\)/);
    expect(table.stdout).to.include(id);
    expect(table.stdout).to.not.include(c.lease.value.slice(0, 12));

    const revoked = await tessera(['lease', 'revoke', '--insecure', id, '--hub', url]);
    expect(revoked.code).to.equal(0);
    expect(JSON.parse(revoked.stdout)).to.deep.equal({ result: 'success' });

    const gone = await tessera(['lease', 'get', '--insecure', id, '--hub', url]);
    expect(gone.code).to.equal(1);
    expect(gone.stdout).to.equal('');
    expect(gone.stderr).to.match(/lease not found/);
  });

  it('exits 1 with the hub failure message on stderr', async () => {
    const r = await tessera(['lease', 'create', '--insecure', '--hub', url, '--ttl', '100']);
    expect(r.code).to.equal(1);
    expect(r.stderr).to.match(/below the minimum/);
  });

  it('exits 2 on bad usage, before asking the hub', async () => {
    for (const args of [
      ['lease', 'create', '--hub', url, '--ttl', 'soon'],
      ['lease', 'create', '--hub', url, '--options', '[1]'],
      ['lease', 'create', '--hub', 'not a hub'],
    ]) {
      const r = await tessera(args);
      expect(r.code, args.join(' ')).to.equal(2);
      expect(r.stderr).to.match(/tessera lease: /);
    }
  });

  it('exits 3 when the hub does not answer', async () => {
    const port = await freePort();
    const r = await tessera(['lease', 'list', '--insecure', '--hub', `ws://127.0.0.1:${port}`, '--timeout', '3000']);
    expect(r.code).to.equal(3);
    expect(r.stderr).to.match(/did not answer/);
  });

  it('exits 2 on usage errors of any command, with a message', async () => {
    const cases = [['hub', '--bogus'], ['lease', 'get'], ['demo', '--duration', '-1'], ['influxdb-local', '--port', 'abc'], ['device', '--hub', url], ['node', '--listen', 'x']];
    const results = await Promise.all(cases.map((args) => tessera(args)));
    cases.forEach((args, i) => {
      expect(results[i]!.code, args.join(' ')).to.equal(2);
      expect(results[i]!.stderr.length, args.join(' ')).to.be.greaterThan(0);
    });
  });

  it('logs structured JSON lines and never a token, even at debug level', async () => {
    const port = await freePort();
    const verbose = await start(['hub', '--listen', `127.0.0.1:${port}`, '--insecure', '--log-level', 'debug'], 'listening on');
    const created = JSON.parse((await tessera(['lease', 'create', '--insecure', '--hub', `ws://127.0.0.1:${port}`])).stdout) as { lease: { id: string; value: string } };
    await tessera(['lease', 'revoke', '--insecure', created.lease.id, '--hub', `ws://127.0.0.1:${port}`]);
    expect(await verbose.stop()).to.equal(0);
    const lines = verbose.stderr().split('\n').filter((l) => l.startsWith('{'));
    expect(lines.length).to.be.greaterThan(1);
    for (const line of lines) expect(() => JSON.parse(line)).to.not.throw();
    expect(verbose.stderr()).to.include(created.lease.id);
    expect(verbose.stderr()).to.not.include(created.lease.value.slice(0, 20));
  });

  it('shows --help for every command', async () => {
    const cases = [['--help'], ['hub', '--help'], ['lease', '--help'], ['lease', 'create', '--help'], ['lease', 'watch', '--help'], ['node', '--help'], ['demo', '--help']];
    const results = await Promise.all(cases.map((args) => tessera(args)));
    cases.forEach((args, i) => {
      expect(results[i]!.code, args.join(' ')).to.equal(0);
      expect(results[i]!.stdout, args.join(' ')).to.match(/Usage: tessera/);
    });
  });
});

describe('tessera hub settings', function () {
  this.timeout(60_000);
  const dir = mkdtempSync(join(tmpdir(), 'tessera-cli-'));
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('names the bad field, whichever source it came from', async () => {
    const flag = await tessera(['hub', '--max-ttl', '-5']);
    expect(flag.code).to.equal(2);
    expect(flag.stderr).to.match(/invalid --max-ttl: must be positive/);
    const env = await tessera(['hub'], { TESSERA_MIN_TTL: 'abc' });
    expect(env.code).to.equal(2);
    expect(env.stderr).to.match(/invalid TESSERA_MIN_TTL/);
    const file = join(dir, 'bad.yaml');
    writeFileSync(file, 'listen: nowhere\n');
    const fromFile = await tessera(['hub', '--config', file]);
    expect(fromFile.stderr).to.match(/invalid config file field "listen": expected host:port/);
    writeFileSync(join(dir, 'unknown.json'), JSON.stringify({ lissen: '1.2.3.4:5' }));
    const unknown = await tessera(['hub', '--config', join(dir, 'unknown.json')]);
    expect(unknown.stderr).to.match(/unknown setting "lissen"/);
  });

  it('resolves command line > env > config file profile > defaults', async () => {
    const [p1, p2, p3] = [await freePort(), await freePort(), await freePort()];
    const file = join(dir, 'hub.yaml');
    writeFileSync(file, `listen: 127.0.0.1:${p1}\nlogLevel: silent\ninsecure: true\nprofiles:\n  edge:\n    listen: 127.0.0.1:${p2}\n`);
    const fromProfile = await start(['hub', '--config', file, '--profile', 'edge'], 'listening on');
    expect(fromProfile.stdout()).to.include(`127.0.0.1:${p2}`);
    await fromProfile.stop();
    const fromEnv = await start(['hub', '--config', file, '--profile', 'edge'], 'listening on', { TESSERA_LISTEN: `127.0.0.1:${p3}` });
    expect(fromEnv.stdout()).to.include(`127.0.0.1:${p3}`);
    await fromEnv.stop();
    const fromFlag = await start(['hub', '--config', file, '--listen', `127.0.0.1:${p1}`], 'listening on', { TESSERA_LISTEN: `127.0.0.1:${p3}` });
    expect(fromFlag.stdout()).to.include(`127.0.0.1:${p1}`);
    await fromFlag.stop();
    const missing = await tessera(['hub', '--config', file, '--profile', 'nope']);
    expect(missing.stderr).to.match(/no profile "nope" \(it has: edge\)/);
  });
});

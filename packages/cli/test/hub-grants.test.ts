// `tessera hub` decides what a lease may do (docs/lease-api.md, Grants), on a real
// influxd 1.x: a member (enrolled with a bootstrap token, its raw JSON requests through
// its secure channel) asking for more than the grant is refused with not_allowed; the
// grant comes from the config file; quotas, per member, from flags.
import { expect } from 'chai';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startInfluxdbLocal } from '@tessera/influxdb-local';
import { freePort, type RunningInfluxd } from '@tessera/testing';
import { createIdentity, createToken, memberCaller, type MemberCaller, ownInfluxd, type Running, start, tessera } from './cli-helpers.js';

/** HTTP status of a 1.x request with a lease's `username:password` as Basic auth. */
async function with1x(url: string, credential: string, path: string, init: RequestInit = {}): Promise<number> {
  const res = await fetch(`${url}${path}`, { ...init, headers: { authorization: `Basic ${Buffer.from(credential).toString('base64')}` } });
  await res.arrayBuffer();
  return res.status;
}
const write1x = (url: string, credential: string, db: string) =>
  with1x(url, credential, `/write?db=${encodeURIComponent(db)}`, { method: 'POST', body: `probe value=1 ${Date.now()}000000` });
const read1x = (url: string, credential: string, db: string) =>
  with1x(url, credential, `/query?${new URLSearchParams({ db, q: 'SELECT * FROM probe LIMIT 1' })}`);

describe('tessera hub grants and quotas (influxdb-v1 on a real influxd, a member through its secure channel)', function () {
  this.timeout(60_000);
  let influxd: RunningInfluxd;
  let hub: Running;
  let dir: string | undefined;
  let port: number;
  let device: { file: string; identifier: string };
  let peer: MemberCaller;

  before(async function () {
    influxd = await ownInfluxd(this, ['metrics', 'reports', 'secrets']);
    dir = mkdtempSync(join(tmpdir(), 'tessera-grants-'));
    const config = join(dir, 'hub.yaml');
    writeFileSync(config, 'grants:\n  - bucket: reports\n    actions: [read]\n');
    port = await freePort();
    const admin = await createIdentity(dir, 'admin');
    device = await createIdentity(dir, 'device');
    hub = await start(
      ['hub', '--config', config, '--cloud', 'influxdb-v1', '--influx-url', influxd.url, '--influx-bucket', 'metrics', '--listen', `127.0.0.1:${port}`, '--identity', join(dir, 'hub.json'), '--admin', admin.identifier],
      'listening on',
      { INFLUX_USERNAME: influxd.adminUser, INFLUX_PASSWORD: influxd.adminPassword, TESSERA_LOG_LEVEL: 'silent', TESSERA_MAX_LEASES_PER_OWNER: '3' },
    );
    const { token } = await createToken(`ws://127.0.0.1:${port}`, admin.file, { role: 'device' }, ['--uses', '1']);
    peer = await memberCaller(port, device.file, { enrollToken: token });
  });
  after(async () => {
    await peer?.close();
    await hub?.stop();
    await influxd?.stop();
    if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
  });

  it('by default a lease writes the --influx-bucket database only: 403 elsewhere, and no read', async () => {
    const created = await peer.call({ action: 'create' });
    expect(created.result, JSON.stringify(created)).to.equal('success');
    const value = created.lease!.value;
    expect(await write1x(influxd.url, value, 'metrics')).to.equal(204);
    expect(await write1x(influxd.url, value, 'secrets')).to.equal(403);
    expect(await write1x(influxd.url, value, 'reports')).to.equal(403);
    expect(await read1x(influxd.url, value, 'metrics')).to.equal(403);
    expect((await peer.call({ action: 'revoke', token_id: created.lease!.id })).result).to.equal('success');
  });

  it('refuses another database, ALL, READ beyond the grant and the metadata database with not_allowed', async () => {
    const refused: [string, object][] = [
      ['WRITE on another database', { grants: [{ database: 'secrets', privilege: 'WRITE' }] }],
      ['ALL on another database', { grants: [{ database: 'secrets', privilege: 'ALL' }] }],
      ['ALL on the granted database (read is not granted)', { grants: [{ database: 'metrics', privilege: 'ALL' }] }],
      ['READ on the granted database', { grants: [{ database: 'metrics', privilege: 'READ' }] }],
      ['WRITE on the read-only grant', { grants: [{ database: 'reports', privilege: 'WRITE' }] }],
      ['the metadata database', { grants: [{ database: 'tessera_leases', privilege: 'READ' }] }],
      ['one granted, one not', { grants: [{ database: 'metrics', privilege: 'WRITE' }, { database: 'secrets', privilege: 'READ' }] }],
    ];
    for (const [what, options] of refused) {
      const r = await peer.call({ action: 'create', options, request_id: what });
      expect(r, what).to.include({ result: 'failure', code: 'not_allowed', request_id: what });
    }
    expect((await peer.call({ action: 'list' })).leases, 'nothing was created').to.deep.equal([]);
  });

  it('grants what the config file lists when asked: READ on reports, and not write', async () => {
    const r = await peer.call({ action: 'create', options: { grants: [{ database: 'reports', privilege: 'READ' }] } });
    expect(r.result, JSON.stringify(r)).to.equal('success');
    expect(await read1x(influxd.url, r.lease!.value, 'reports')).to.equal(200);
    expect(await write1x(influxd.url, r.lease!.value, 'reports')).to.equal(403);
    expect(await write1x(influxd.url, r.lease!.value, 'metrics')).to.equal(403);
    expect((await peer.call({ action: 'revoke', token_id: r.lease!.id })).result).to.equal('success');
  });

  it('TESSERA_MAX_LEASES_PER_OWNER bounds one member; tessera lease exits 1 on not_allowed, saying the code', async () => {
    const answers = await Promise.all(Array.from({ length: 6 }, () => peer.call({ action: 'create' })));
    expect(answers.filter((a) => a.result === 'success')).to.have.length(3);
    expect(answers.filter((a) => a.code === 'quota_exceeded')).to.have.length(3);
    for (const a of answers) if (a.lease) await peer.call({ action: 'revoke', token_id: a.lease.id });
    const cli = await tessera(['lease', 'create', '--identity', device.file, '--hub', `ws://127.0.0.1:${port}`, '--options', '{"grants":[{"database":"secrets","privilege":"ALL"}]}']);
    expect(cli.code).to.equal(1);
    expect(cli.stdout).to.equal('');
    expect(cli.stderr).to.match(/^tessera lease: not allowed: .* \(not_allowed\)\n$/m);
  });
});

describe('tessera lease decides on the failure code', function () {
  this.timeout(60_000);

  it('exits 3 when the hub answers unavailable (its cloud is down), 1 when it refuses', async () => {
    const influx = await startInfluxdbLocal({ port: 0, org: 'tessera', bucket: 'tessera', token: 'operator-token-for-cli-tests' });
    const port = await freePort();
    const dir = mkdtempSync(join(tmpdir(), 'tessera-unavailable-'));
    const admin = await createIdentity(dir, 'admin');
    const hub = await start(
      ['hub', '--influx-url', influx.url, '--listen', `127.0.0.1:${port}`, '--log-level', 'silent', '--identity', join(dir, 'hub.json'), '--admin', admin.identifier],
      'listening on',
      { INFLUX_TOKEN: influx.token },
    );
    try {
      const hubUrl = `ws://127.0.0.1:${port}`;
      const refused = await tessera(['lease', 'create', '--identity', admin.file, '--hub', hubUrl, '--options', '{"permissions":[{"action":"read","bucket":"tessera"}]}']);
      expect(refused.code, refused.stderr).to.equal(1);
      expect(refused.stderr).to.match(/\(not_allowed\)\n$/);
      await influx.close();
      const down = await tessera(['lease', 'create', '--identity', admin.file, '--hub', hubUrl]);
      expect(down.code, down.stderr).to.equal(3);
      expect(down.stderr).to.match(/^tessera lease: cloud unavailable: .* \(unavailable\)\n$/m);
    } finally {
      await hub.stop();
      await influx.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

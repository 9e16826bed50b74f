import { watch } from 'node:fs';
import { mkdtemp, readdir, readFile, rm, stat, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { PersistFileError, startInfluxdbLocal } from '../src/index.js';
import { apis, bucketPermissions, httpError, start, stopAll, write } from './helpers.js';

describe('influxdb-local: persistence', () => {
  let dir: string;

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'influxdb-local-'));
  });
  afterEach(async () => {
    await stopAll();
    await rm(dir, { recursive: true, force: true });
  });

  it('keeps orgs, buckets, authorizations and points across a restart', async () => {
    const persistPath = join(dir, 'state.json');
    const first = await startInfluxdbLocal({ port: 0, persistPath, token: undefined });
    const api = apis(first, first.token);
    const extra = await api.buckets.postBuckets({ body: { orgID: first.orgID, name: 'extra', retentionRules: [] } });
    const kept = await api.auths.postAuthorizations({ body: { orgID: first.orgID, permissions: bucketPermissions(first.orgID) } });
    const gone = await api.auths.postAuthorizations({ body: { orgID: first.orgID, permissions: bucketPermissions(first.orgID) } });
    await api.auths.deleteAuthorizationsID({ authID: gone.id! });
    await write(first, kept.token!, ['m,t=a big=9007199254740993i,s="x",f=1.5,b=true 42'], { org: first.org, bucket: 'extra' });
    const before = first.points({ bucket: 'extra' });
    await first.close();
    const saved = JSON.parse(await readFile(persistPath, 'utf8'));
    expect(saved.version).to.equal(1);
    expect(saved.series[0].points[0][1].big).to.deep.equal({ i: '9007199254740993' });

    const second = await start({ persistPath, token: undefined });
    expect(second).to.include({ token: first.token, orgID: first.orgID, bucketID: first.bucketID });
    expect(second.points({ bucket: 'extra' })).to.deep.equal(before);
    await write(second, kept.token!, ['m,t=a v=2 43'], { org: second.org, bucket: extra.id! });
    expect(second.countPoints({ bucket: 'extra' })).to.equal(2);
    expect((await httpError(write(second, gone.token!, ['m v=1'], { org: second.org, bucket: 'extra' }))).statusCode).to.equal(401);
    const ids = (await apis(second, second.token).auths.getAuthorizations()).authorizations!.map((a) => a.id);
    expect(ids).to.have.length(2).and.include(kept.id).and.not.include(gone.id);
  });

  it('writes its token-holding file afresh with mode 0600: a file planted at a guessable temporary name gets nothing', async () => {
    const persistPath = join(dir, 'state.json');
    const stolen = join(dir, 'stolen');
    await writeFile(stolen, '', { mode: 0o644 });
    const planted = [`${persistPath}.${process.pid}.tmp`, `${persistPath}.tmp`, join(dir, '.state.json.tmp')];
    for (const name of planted) await symlink(stolen, name);
    const server = await startInfluxdbLocal({ port: 0, persistPath, token: 'operator-token-that-must-stay-put' });
    await server.close();
    expect(await readFile(stolen, 'utf8')).to.equal('');
    expect(await readFile(persistPath, 'utf8')).to.include('operator-token-that-must-stay-put');
    expect((await stat(persistPath)).mode & 0o777).to.equal(0o600);
    // nothing left behind but what was there
    expect((await readdir(dir)).sort()).to.deep.equal(['state.json', 'stolen', ...planted.map((p) => p.slice(dir.length + 1))].sort());
  });

  it('writes soon after a change, not only on close', async () => {
    const persistPath = join(dir, 'state.json');
    const server = await start({ persistPath });
    await apis(server, server.token).buckets.postBuckets({ body: { orgID: server.orgID, name: 'soon', retentionRules: [] } });
    // Wait for the debounced write by watching the folder, not by sleeping a fixed time.
    const hasBucket = async () => (await readFile(persistPath, 'utf8').catch(() => '')).includes('"soon"');
    await new Promise<void>((resolve) => {
      const check = async () => {
        if (await hasBucket()) {
          watcher.close();
          resolve();
        }
      };
      const watcher = watch(dir, () => void check());
      void check();
    });
  });

  it('adds a new operator token, org and bucket to an existing file when the options name new ones', async () => {
    const persistPath = join(dir, 'state.json');
    const first = await start({ persistPath, token: 'one' });
    await first.close();
    const second = await start({ persistPath, token: 'two', org: 'other', bucket: 'b2' });
    expect(second.org).to.equal('other');
    expect(second.orgID).to.not.equal(first.orgID);
    const orgs = await apis(second, 'one').orgs.getOrgs();
    expect(orgs.orgs!.map((o) => o.name)).to.deep.equal(['other', 'tessera']);
  });

  it('refuses to start on a file that is not a snapshot, or that it cannot write', async () => {
    const persistPath = join(dir, 'state.json');
    await writeFile(persistPath, '{"version":2}');
    try {
      await startInfluxdbLocal({ port: 0, persistPath });
      expect.fail('should not start');
    } catch (err) {
      expect(err).to.be.instanceOf(PersistFileError);
    }
    try {
      await startInfluxdbLocal({ port: 0, persistPath: join(dir, 'no-such-folder', 'state.json') });
      expect.fail('should not start');
    } catch (err) {
      expect(err).to.be.instanceOf(PersistFileError);
    }
    await writeFile(persistPath, 'not json');
    try {
      await startInfluxdbLocal({ port: 0, persistPath });
      expect.fail('should not start');
    } catch (err) {
      expect((err as Error).name).to.equal('PersistFileError');
    }
  });
});

import { expect } from 'chai';
import type { InfluxdbLocal } from '../src/index.js';
import { apis, bucketPermissions, httpError, raw, start, stopAll } from './helpers.js';

describe('influxdb-local: orgs, buckets and authorizations', () => {
  let server: InfluxdbLocal;
  let operator: ReturnType<typeof apis>;
  let now: Date;

  beforeEach(async () => {
    now = new Date('2024-05-01T00:00:00.000Z');
    server = await start({ clock: () => now });
    operator = apis(server, server.token);
  });
  afterEach(stopAll);

  describe('authorizations', () => {
    it('creates one as InfluxDB does: 16-hex id, 88-character token, active, names filled in', async () => {
      const a = await operator.auths.postAuthorizations({
        body: { orgID: server.orgID, description: 'dev', permissions: bucketPermissions(server.orgID, server.bucketID, ['read', 'write']) },
      });
      expect(a.id).to.match(/^[0-9a-f]{16}$/);
      expect(a.token).to.have.length(88).and.match(/^[A-Za-z0-9_-]{86}==$/);
      expect(a).to.include({ status: 'active', description: 'dev', orgID: server.orgID, org: server.org, user: 'admin' });
      expect(a.userID).to.match(/^[0-9a-f]{16}$/);
      expect(a.permissions).to.deep.equal([
        { action: 'read', resource: { type: 'buckets', id: server.bucketID, name: server.bucket, orgID: server.orgID, org: server.org } },
        { action: 'write', resource: { type: 'buckets', id: server.bucketID, name: server.bucket, orgID: server.orgID, org: server.org } },
      ]);
      expect(a.links).to.deep.equal({ self: `/api/v2/authorizations/${a.id}`, user: `/api/v2/users/${a.userID}` });
      expect(a.createdAt).to.equal('2024-05-01T00:00:00.000Z');
      expect(await operator.auths.getAuthorizationsID({ authID: a.id! })).to.deep.equal(a);
    });

    it('patches status and description, moving updatedAt only', async () => {
      const a = await operator.auths.postAuthorizations({ body: { orgID: server.orgID, permissions: bucketPermissions(server.orgID) } });
      now = new Date('2024-05-02T00:00:00.000Z');
      const patched = await operator.auths.patchAuthorizationsID({ authID: a.id!, body: { status: 'inactive', description: 'off' } });
      expect(patched).to.include({ status: 'inactive', description: 'off', token: a.token, createdAt: a.createdAt, updatedAt: '2024-05-02T00:00:00.000Z' });
      const described = await operator.auths.patchAuthorizationsID({ authID: a.id!, body: { description: 'still off' } });
      expect(described.status).to.equal('inactive');
      const bad = await httpError(operator.auths.patchAuthorizationsID({ authID: a.id!, body: { status: 'paused' as 'active' } }));
      expect(bad.statusCode).to.equal(400);
    });

    it('lists with filters userID, user, orgID, org and token', async () => {
      const a = await operator.auths.postAuthorizations({ body: { orgID: server.orgID, permissions: bucketPermissions(server.orgID) } });
      const all = await operator.auths.getAuthorizations();
      expect(all.authorizations!.map((x) => x.id)).to.include(a.id);
      expect(all.authorizations).to.have.length(2); // the operator's and this one
      expect((await operator.auths.getAuthorizations({ orgID: server.orgID })).authorizations).to.have.length(2);
      expect((await operator.auths.getAuthorizations({ org: server.org })).authorizations).to.have.length(2);
      expect((await operator.auths.getAuthorizations({ user: 'admin' })).authorizations).to.have.length(2);
      expect((await operator.auths.getAuthorizations({ userID: a.userID! })).authorizations).to.have.length(2);
      expect((await operator.auths.getAuthorizations({ userID: '0123456789abcdef' })).authorizations).to.have.length(0);
      const byToken = await raw(server.url, 'GET', `/api/v2/authorizations?token=${encodeURIComponent(a.token!)}`, { authorization: `Token ${server.token}` });
      expect(JSON.parse(byToken.body).authorizations.map((x: { id: string }) => x.id)).to.deep.equal([a.id]);
      expect((await httpError(operator.auths.getAuthorizations({ org: 'nope' }))).statusCode).to.equal(404);
      expect((await httpError(operator.auths.getAuthorizations({ orgID: 'short' }))).statusCode).to.equal(400);
    });

    it('answers 404 and 400 for unknown and malformed ids', async () => {
      let err = await httpError(operator.auths.getAuthorizationsID({ authID: '0123456789abcdef' }));
      expect(err.statusCode).to.equal(404);
      expect(err.json).to.deep.equal({ code: 'not found', message: 'authorization not found' });
      err = await httpError(operator.auths.deleteAuthorizationsID({ authID: '0123456789abcdef' }));
      expect(err.statusCode).to.equal(404);
      err = await httpError(operator.auths.getAuthorizationsID({ authID: 'abc' }));
      expect(err.statusCode).to.equal(400);
      expect(err.json).to.deep.equal({ code: 'invalid', message: 'id must have a length of 16 bytes' });
      err = await httpError(operator.auths.deleteAuthorizationsID({ authID: 'zzzzzzzzzzzzzzzz' }));
      expect(err.json).to.deep.equal({ code: 'invalid', message: 'invalid ID' });
    });

    it('requires orgID and permissions', async () => {
      let err = await httpError(operator.auths.postAuthorizations({ body: { orgID: server.orgID, permissions: [] } }));
      expect(err.statusCode).to.equal(400);
      expect(err.json).to.deep.equal({ code: 'invalid', message: 'authorization must include permissions' });
      err = await httpError(operator.auths.postAuthorizations({ body: { permissions: bucketPermissions(server.orgID) } as never }));
      expect(err.json).to.deep.equal({ code: 'invalid', message: 'org id required' });
      err = await httpError(operator.auths.postAuthorizations({ body: { orgID: server.orgID, permissions: [{ action: 'write', resource: { type: 'nope' as 'buckets' } }] } }));
      expect(err.statusCode).to.equal(400);
      err = await httpError(operator.auths.postAuthorizations({ body: { orgID: '0123456789abcdef', permissions: bucketPermissions(server.orgID) } }));
      expect(err.statusCode).to.equal(400);
      expect(err.message).to.match(/is not for org id/);
      err = await httpError(operator.auths.postAuthorizations({ body: { orgID: '0123456789abcdef', permissions: bucketPermissions('0123456789abcdef') } }));
      expect(err.statusCode).to.equal(404);
    });

    it('401s a missing, unknown or deleted token on every management call', async () => {
      const a = await operator.auths.postAuthorizations({
        body: { orgID: server.orgID, permissions: [{ action: 'read', resource: { type: 'authorizations' } }, { action: 'write', resource: { type: 'authorizations' } }] },
      });
      for (const token of ['', 'unknown-token']) {
        const client = apis(server, token);
        const err = await httpError(client.auths.getAuthorizations());
        expect(err.statusCode).to.equal(401);
        expect(err.json).to.deep.equal({ code: 'unauthorized', message: 'unauthorized access' });
        expect((await httpError(client.buckets.getBuckets())).statusCode).to.equal(401);
        expect((await httpError(client.orgs.getOrgs())).statusCode).to.equal(401);
      }
      await operator.auths.deleteAuthorizationsID({ authID: a.id! });
      expect((await httpError(apis(server, a.token!).auths.getAuthorizations())).statusCode).to.equal(401);
    });

    it('lets only the operator, or a token with authorizations permissions, manage authorizations', async () => {
      const device = await operator.auths.postAuthorizations({ body: { orgID: server.orgID, permissions: bucketPermissions(server.orgID) } });
      const deviceApi = apis(server, device.token!);
      let err = await httpError(deviceApi.auths.postAuthorizations({ body: { orgID: server.orgID, permissions: bucketPermissions(server.orgID) } }));
      expect(err.statusCode).to.equal(401);
      expect(err.json).to.deep.equal({ code: 'unauthorized', message: `write:orgs/${server.orgID}/authorizations is unauthorized` });
      err = await httpError(deviceApi.auths.deleteAuthorizationsID({ authID: device.id! }));
      expect(err.statusCode).to.equal(401);
      expect((await deviceApi.auths.getAuthorizations()).authorizations).to.deep.equal([]);

      const manager = await operator.auths.postAuthorizations({
        body: {
          orgID: server.orgID,
          permissions: [
            { action: 'read', resource: { type: 'authorizations', orgID: server.orgID } },
            { action: 'write', resource: { type: 'authorizations', orgID: server.orgID } },
            ...bucketPermissions(server.orgID),
          ],
        },
      });
      const managerApi = apis(server, manager.token!);
      const made = await managerApi.auths.postAuthorizations({ body: { orgID: server.orgID, permissions: bucketPermissions(server.orgID, server.bucketID) } });
      err = await httpError(managerApi.auths.postAuthorizations({ body: { orgID: server.orgID, permissions: bucketPermissions(server.orgID, undefined, ['read']) } }));
      expect(err.statusCode).to.equal(403);
      expect(err.json).to.deep.equal({ code: 'forbidden', message: `permission read:orgs/${server.orgID}/buckets is not allowed` });
      expect((await managerApi.auths.getAuthorizations()).authorizations).to.have.length(4);
      await managerApi.auths.deleteAuthorizationsID({ authID: made.id! });

      await operator.auths.patchAuthorizationsID({ authID: manager.id!, body: { status: 'inactive' } });
      err = await httpError(managerApi.auths.getAuthorizations());
      expect(err.statusCode).to.equal(401);
      expect(err.json).to.deep.equal({ code: 'unauthorized', message: 'token is inactive' });
    });

    it('counts requests per route', async () => {
      const a = await operator.auths.postAuthorizations({ body: { orgID: server.orgID, permissions: bucketPermissions(server.orgID) } });
      await operator.auths.deleteAuthorizationsID({ authID: a.id! });
      await httpError(operator.auths.deleteAuthorizationsID({ authID: a.id! }));
      const stats = server.stats();
      expect(stats['POST /api/v2/authorizations']).to.equal(1);
      expect(stats['DELETE /api/v2/authorizations/{authID}']).to.equal(2);
      expect(stats['POST /api/v2/write']).to.equal(0);
    });
  });

  describe('buckets', () => {
    it('creates and lists buckets, with the system buckets InfluxDB makes', async () => {
      const b = await operator.buckets.postBuckets({ body: { orgID: server.orgID, name: 'metrics', description: 'm', retentionRules: [{ type: 'expire', everySeconds: 86_400 }] } });
      expect(b).to.include({ name: 'metrics', orgID: server.orgID, type: 'user', description: 'm' });
      expect(b.retentionRules).to.deep.equal([{ type: 'expire', everySeconds: 86_400, shardGroupDurationSeconds: 3_600 }]);
      const all = await operator.buckets.getBuckets({ orgID: server.orgID });
      expect(all.buckets!.map((x) => x.name)).to.deep.equal(['_monitoring', '_tasks', 'metrics', server.bucket]);
      expect((await operator.buckets.getBuckets({ org: server.org, name: 'metrics' })).buckets!.map((x) => x.id)).to.deep.equal([b.id]);
      expect((await operator.buckets.getBuckets({ id: server.bucketID })).buckets!.map((x) => x.name)).to.deep.equal([server.bucket]);
      expect((await operator.buckets.getBuckets({ name: 'nope' })).buckets).to.deep.equal([]);
      expect((await operator.buckets.getBucketsID({ bucketID: b.id! })).name).to.equal('metrics');
      const page = await operator.buckets.getBuckets({ orgID: server.orgID, limit: 2, offset: 1 });
      expect(page.buckets!.map((x) => x.name)).to.deep.equal(['_tasks', 'metrics']);
      expect(page.links!.next).to.match(/offset=3/);
    });

    it('refuses duplicates (422), underscores (400), unknown orgs (404) and ids (404/400)', async () => {
      let err = await httpError(operator.buckets.postBuckets({ body: { orgID: server.orgID, name: server.bucket, retentionRules: [] } }));
      expect(err.statusCode).to.equal(422);
      expect(err.json).to.deep.equal({ code: 'conflict', message: `bucket with name ${server.bucket} already exists` });
      err = await httpError(operator.buckets.postBuckets({ body: { orgID: server.orgID, name: '_mine', retentionRules: [] } }));
      expect(err.statusCode).to.equal(400);
      err = await httpError(operator.buckets.postBuckets({ body: { orgID: '0123456789abcdef', name: 'x', retentionRules: [] } }));
      expect(err.statusCode).to.equal(404);
      err = await httpError(operator.buckets.getBucketsID({ bucketID: '0123456789abcdef' }));
      expect(err.json).to.deep.equal({ code: 'not found', message: 'bucket not found' });
      err = await httpError(operator.buckets.getBucketsID({ bucketID: 'nope' }));
      expect(err.statusCode).to.equal(400);
    });

    it('shows a token only the buckets it may read, and lets it create none', async () => {
      const reader = await operator.auths.postAuthorizations({ body: { orgID: server.orgID, permissions: bucketPermissions(server.orgID, server.bucketID, ['read']) } });
      const readerApi = apis(server, reader.token!);
      expect((await readerApi.buckets.getBuckets()).buckets!.map((b) => b.id)).to.deep.equal([server.bucketID]);
      const err = await httpError(readerApi.buckets.postBuckets({ body: { orgID: server.orgID, name: 'x', retentionRules: [] } }));
      expect(err.statusCode).to.equal(401);
      expect(err.json).to.deep.equal({ code: 'unauthorized', message: `write:orgs/${server.orgID}/buckets is unauthorized` });
    });
  });

  describe('orgs', () => {
    it('lists and gets orgs, with the org and orgID filters', async () => {
      const list = await operator.orgs.getOrgs();
      expect(list.orgs!.map((o) => [o.id, o.name])).to.deep.equal([[server.orgID, server.org]]);
      expect((await operator.orgs.getOrgs({ org: server.org })).orgs).to.have.length(1);
      expect((await operator.orgs.getOrgs({ orgID: server.orgID })).orgs).to.have.length(1);
      const org = await operator.orgs.getOrgsID({ orgID: server.orgID });
      expect(org).to.include({ id: server.orgID, name: server.org });
      expect(org.links!.buckets).to.equal(`/api/v2/buckets?org=${server.org}`);
      let err = await httpError(operator.orgs.getOrgs({ org: 'nope' }));
      expect(err.json).to.deep.equal({ code: 'not found', message: 'organization name "nope" not found' });
      err = await httpError(operator.orgs.getOrgsID({ orgID: '0123456789abcdef' }));
      expect(err.json).to.deep.equal({ code: 'not found', message: 'organization not found' });
      err = await httpError(operator.orgs.getOrgsID({ orgID: 'x' }));
      expect(err.statusCode).to.equal(400);
    });
  });

  it('answers unknown paths 404 and wrong methods 405, in the InfluxDB error shape', async () => {
    const notFound = await raw(server.url, 'GET', '/api/v2/nothing', { authorization: `Token ${server.token}` });
    expect(notFound.status).to.equal(404);
    expect(JSON.parse(notFound.body)).to.deep.equal({ code: 'not found', message: 'path not found' });
    const wrong = await raw(server.url, 'PUT', '/api/v2/buckets', { authorization: `Token ${server.token}` });
    expect(wrong.status).to.equal(405);
    expect(wrong.headers['x-platform-error-code']).to.equal('method not allowed');
    expect(wrong.headers['content-type']).to.equal('application/json; charset=utf-8');
  });
});

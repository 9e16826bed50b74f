import { gzipSync } from 'node:zlib';
import { expect } from 'chai';
import type { InfluxdbLocal } from '../src/index.js';
import { apis, bucketPermissions, httpError, raw, start, stopAll, write } from './helpers.js';

describe('influxdb-local: POST /api/v2/write', () => {
  let server: InfluxdbLocal;
  const target = () => ({ org: server.org, bucket: server.bucket });

  beforeEach(async () => {
    server = await start();
  });
  afterEach(stopAll);

  async function tokenWith(permissions: ReturnType<typeof bucketPermissions>, description = 'device'): Promise<{ id: string; token: string }> {
    const created = await apis(server, server.token).auths.postAuthorizations({ body: { orgID: server.orgID, description, permissions } });
    return { id: created.id!, token: created.token! };
  }

  it('accepts a write with a new token, and 401s it once the authorization is deleted', async () => {
    const { id, token } = await tokenWith(bucketPermissions(server.orgID, server.bucketID));
    await write(server, token, ['cpu,host=a usage=0.5 1700000000000000000'], target());
    expect(server.countPoints({ measurement: 'cpu' })).to.equal(1);

    await apis(server, server.token).auths.deleteAuthorizationsID({ authID: id });
    const err = await httpError(write(server, token, ['cpu,host=a usage=0.6 1700000000000000001'], target()));
    expect(err.statusCode).to.equal(401);
    expect(err.json).to.deep.equal({ code: 'unauthorized', message: 'unauthorized access' });
    expect(err.headers?.['x-platform-error-code']).to.equal('unauthorized');
    expect(err.contentType).to.equal('application/json; charset=utf-8');
    expect(server.countPoints()).to.equal(1);
    expect(server.stats()['DELETE /api/v2/authorizations/{authID}']).to.equal(1);
  });

  it('answers 403 for an inactive token, and takes it again once active', async () => {
    const { id, token } = await tokenWith(bucketPermissions(server.orgID, server.bucketID));
    const { auths } = apis(server, server.token);
    await auths.patchAuthorizationsID({ authID: id, body: { status: 'inactive' } });
    const err = await httpError(write(server, token, ['m v=1'], target()));
    expect(err.statusCode).to.equal(403);
    expect(err.json).to.deep.equal({ code: 'forbidden', message: 'insufficient permissions for write' });

    await auths.patchAuthorizationsID({ authID: id, body: { status: 'active' } });
    await write(server, token, ['m v=1'], target());
  });

  it('answers 403 to a token that may only read the bucket', async () => {
    const { token } = await tokenWith(bucketPermissions(server.orgID, server.bucketID, ['read']));
    const err = await httpError(write(server, token, ['m v=1'], target()));
    expect(err.statusCode).to.equal(403);
    expect(err.code).to.equal('forbidden');
  });

  it('answers 403 to a token for another bucket', async () => {
    const other = await apis(server, server.token).buckets.postBuckets({ body: { orgID: server.orgID, name: 'other', retentionRules: [] } });
    const { token } = await tokenWith(bucketPermissions(server.orgID, other.id));
    await write(server, token, ['m v=1'], { org: server.org, bucket: 'other' });
    const err = await httpError(write(server, token, ['m v=1'], target()));
    expect(err.statusCode).to.equal(403);
  });

  it('lets a bucket permission without id write to every bucket of the org, whatever name it carries', async () => {
    const other = await apis(server, server.token).buckets.postBuckets({ body: { orgID: server.orgID, name: 'second', retentionRules: [] } });
    const created = await apis(server, server.token).auths.postAuthorizations({
      body: {
        orgID: server.orgID,
        permissions: [{ action: 'write', resource: { type: 'buckets', orgID: server.orgID, name: 'ignored-name', org: 'ignored-org' } }],
      },
    });
    const token = created.token!;
    expect(created.permissions![0]!.resource).to.deep.equal({ type: 'buckets', orgID: server.orgID, org: server.org });
    await write(server, token, ['m v=1 1'], target());
    await write(server, token, ['m v=2 2'], { org: server.org, bucket: 'second' });
    expect(server.countPoints()).to.equal(1);
    expect(server.countPoints({ bucket: 'second' })).to.equal(1);
    expect(server.countPoints({ bucket: other.id! })).to.equal(1);
  });

  it('answers 404 for an unknown org or bucket, and 400 for no org', async () => {
    let err = await httpError(write(server, server.token, ['m v=1'], { org: 'nope', bucket: server.bucket }));
    expect(err.statusCode).to.equal(404);
    expect(err.json).to.deep.equal({ code: 'not found', message: 'organization name "nope" not found' });
    err = await httpError(write(server, server.token, ['m v=1'], { org: server.org, bucket: 'nope' }));
    expect(err.statusCode).to.equal(404);
    expect(err.json).to.deep.equal({ code: 'not found', message: 'bucket "nope" not found' });
    err = await httpError(write(server, server.token, ['m v=1'], { org: '0123456789abcdef', bucket: server.bucket }));
    expect(err.statusCode).to.equal(404);
    expect(err.json).to.deep.equal({ code: 'not found', message: 'organization not found' });

    const res = await raw(server.url, 'POST', `/api/v2/write?bucket=${server.bucket}`, { authorization: `Token ${server.token}` }, 'm v=1');
    expect(res.status).to.equal(400);
    expect(JSON.parse(res.body)).to.have.property('code', 'invalid');
  });

  it('takes org and bucket ids as well as names, and Bearer as well as Token', async () => {
    await write(server, server.token, ['m v=1 1'], { org: server.orgID, bucket: server.bucketID, headers: { authorization: `Bearer ${server.token}` } });
    const res = await raw(server.url, 'POST', `/api/v2/write?orgID=${server.orgID}&bucket=${server.bucketID}`, { authorization: `Bearer ${server.token}` }, 'm v=2 2');
    expect(res.status).to.equal(204);
    expect(res.body).to.equal('');
    expect(server.countPoints()).to.equal(2);
  });

  it('answers 400 for bad line protocol, naming the line, and stores none of the batch', async () => {
    const err = await httpError(write(server, server.token, ['good v=1 1', 'bad,host=a 2'], target()));
    expect(err.statusCode).to.equal(400);
    expect(err.json).to.deep.equal({ code: 'invalid', message: "unable to parse 'bad,host=a 2': invalid field format" });
    expect(server.countPoints()).to.equal(0);
  });

  it('checks in the real order: token, precision, org, bucket, permission, then the body', async () => {
    const readOnly = await tokenWith(bucketPermissions(server.orgID, server.bucketID, ['read']));
    const post = (query: string, token: string | undefined, body = 'not line protocol') =>
      raw(server.url, 'POST', `/api/v2/write?${query}`, token === undefined ? {} : { authorization: `Token ${token}` }, body);
    const everythingWrong = 'org=nope&bucket=nope&precision=h';
    expect((await post(everythingWrong, undefined)).status).to.equal(401);
    expect((await post(everythingWrong, 'unknown')).status).to.equal(401);
    expect((await post(everythingWrong, readOnly.token)).status).to.equal(400);
    expect((await post('org=nope&bucket=nope', readOnly.token)).status).to.equal(404);
    expect(JSON.parse((await post(`org=${server.org}&bucket=nope`, readOnly.token)).body).message).to.equal('bucket "nope" not found');
    expect((await post(`org=${server.org}&bucket=${server.bucket}`, readOnly.token)).status).to.equal(403);
    const bad = await post(`org=${server.org}&bucket=${server.bucket}`, server.token);
    expect(bad.status).to.equal(400);
    expect(JSON.parse(bad.body).message).to.match(/^unable to parse 'not line protocol': /);
  });

  it('applies the precision to timestamps and gives points without one the server time', async () => {
    const clockServer = await start({ clock: () => new Date('2024-01-02T03:04:05.678Z') });
    await write(clockServer, clockServer.token, ['a v=1 1700000000', 'b v=1'], { org: clockServer.org, bucket: clockServer.bucket, precision: 's' });
    const [a] = clockServer.points({ measurement: 'a' });
    const [b] = clockServer.points({ measurement: 'b' });
    expect(a!.timestamp).to.equal('1700000000000000000');
    expect(a!.time).to.equal('2023-11-14T22:13:20Z');
    expect(b!.time).to.equal('2024-01-02T03:04:05Z');
  });

  it('takes a gzipped body, as the client sends past its gzip threshold', async () => {
    const lines = Array.from({ length: 500 }, (_, i) => `gz,host=h${i % 7} v=${i}i ${1_000 + i}`);
    await write(server, server.token, lines, { ...target(), gzipThreshold: 10 });
    expect(server.countPoints({ measurement: 'gz' })).to.equal(500);

    const res = await raw(
      server.url,
      'POST',
      `/api/v2/write?org=${server.org}&bucket=${server.bucket}`,
      { authorization: `Token ${server.token}`, 'content-encoding': 'gzip' },
      gzipSync('byhand v=1 1\nbyhand v=2 2\n'),
    );
    expect(res.status).to.equal(204);
    expect(server.countPoints({ measurement: 'byhand' })).to.equal(2);

    const broken = await raw(server.url, 'POST', `/api/v2/write?org=${server.org}&bucket=${server.bucket}`, { authorization: `Token ${server.token}`, 'content-encoding': 'gzip' }, 'not gzip');
    expect(broken.status).to.equal(400);
    expect(JSON.parse(broken.body).code).to.equal('invalid');
  });

  it('answers 413 past maxBodyBytes, plain or once gunzipped', async () => {
    const small = await start({ maxBodyBytes: 1_000 });
    const lines = Array.from({ length: 100 }, (_, i) => `big v=${i} ${i}`);
    const err = await httpError(write(small, small.token, lines, { org: small.org, bucket: small.bucket, gzipThreshold: 1_000_000 }));
    expect(err.statusCode).to.equal(413);
    expect(err.json).to.deep.equal({ code: 'request too large', message: 'unable to read data: points batch is too large' });
    const zipped = await httpError(write(small, small.token, lines, { org: small.org, bucket: small.bucket, gzipThreshold: 0 }));
    expect(zipped.statusCode).to.equal(413);
    expect(small.countPoints()).to.equal(0);
    await write(small, small.token, lines.slice(0, 10), { org: small.org, bucket: small.bucket });
    expect(small.countPoints()).to.equal(10);
  });
});

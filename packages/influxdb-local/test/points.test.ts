import { expect } from 'chai';
import type { InfluxdbLocal } from '../src/index.js';
import { apis, bucketPermissions, raw, start, stopAll, write } from './helpers.js';

describe('influxdb-local: reading back what was written', () => {
  let server: InfluxdbLocal;

  beforeEach(async () => {
    server = await start();
    await write(
      server,
      server.token,
      [
        'temp,room=kitchen,floor=0 c=21.5,ok=true 1700000000000000000',
        'temp,room=attic,floor=2 c=30.25 1700000001000000000',
        'temp,room=kitchen,floor=0 c=22,note="warmer" 1700000002000000000',
        'hum,room=kitchen rh=40i 1700000000500000000',
        // the same series and time again: fields merge, as in InfluxDB
        'temp,floor=0,room=kitchen extra=1i 1700000000000000000',
      ],
      { org: server.org, bucket: server.bucket },
    );
  });
  afterEach(stopAll);

  it('filters by measurement and tags, oldest first, fields typed', () => {
    expect(server.countPoints()).to.equal(4);
    expect(server.countPoints({ measurement: 'temp' })).to.equal(3);
    const kitchen = server.points({ measurement: 'temp', tags: { room: 'kitchen' } });
    expect(kitchen).to.deep.equal([
      { measurement: 'temp', tags: { floor: '0', room: 'kitchen' }, fields: { c: 21.5, ok: true, extra: 1 }, timestamp: '1700000000000000000', time: '2023-11-14T22:13:20Z' },
      { measurement: 'temp', tags: { floor: '0', room: 'kitchen' }, fields: { c: 22, note: 'warmer' }, timestamp: '1700000002000000000', time: '2023-11-14T22:13:22Z' },
    ]);
    expect(server.points({ tags: { room: 'kitchen' } }).map((p) => p.measurement)).to.deep.equal(['temp', 'hum', 'temp']);
    expect(server.countPoints({ tags: { room: 'cellar' } })).to.equal(0);
    expect(server.countPoints({ bucket: 'nope' })).to.equal(0);
    expect(server.countPoints({ org: 'nope' })).to.equal(0);
    expect(server.countPoints({ bucket: server.bucketID })).to.equal(4);
  });

  it('serves the same over GET /api/v2/local/points, to a token that may read the bucket', async () => {
    const res = await raw(server.url, 'GET', `/api/v2/local/points?org=${server.org}&bucket=${server.bucket}&measurement=temp&tag.room=attic`, {
      authorization: `Token ${server.token}`,
    });
    expect(res.status).to.equal(200);
    expect(JSON.parse(res.body)).to.deep.equal({ org: server.org, bucket: server.bucket, count: 1, points: server.points({ tags: { room: 'attic' } }) });

    const writer = await apis(server, server.token).auths.postAuthorizations({ body: { orgID: server.orgID, permissions: bucketPermissions(server.orgID) } });
    const denied = await raw(server.url, 'GET', `/api/v2/local/points?orgID=${server.orgID}&bucket=${server.bucketID}`, { authorization: `Token ${writer.token!}` });
    expect(denied.status).to.equal(403);
    expect((await raw(server.url, 'GET', `/api/v2/local/points?org=${server.org}&bucket=${server.bucket}`)).status).to.equal(401);
    expect((await raw(server.url, 'GET', `/api/v2/local/points?org=${server.org}&bucket=nope`, { authorization: `Token ${server.token}` })).status).to.equal(404);
    expect((await raw(server.url, 'GET', `/api/v2/local/points?bucket=${server.bucket}`, { authorization: `Token ${server.token}` })).status).to.equal(400);
  });
});

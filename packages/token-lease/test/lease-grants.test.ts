// The hub decides a lease's privileges, not the caller (docs/protocol.md §4): a raw
// ws + msgpackr peer asks for more than its grant and is refused with not_allowed,
// and the token it does get works on its bucket and nowhere else.
import { expect } from 'chai';
import { staticGrant } from '@tessera/token-lease';
import { startHub, type HubFixture } from './fixtures.js';
import { createBucket, readFrom, writeTo } from './influx-buckets.js';
import { rawLeaseClient, type RawLeaseClient } from './raw-lease-client.js';

const POST_AUTH = 'POST /api/v2/authorizations';

describe('lease grants: the hub decides privileges (raw ws client, influxdb-local)', () => {
  let fx: HubFixture;
  let peer: RawLeaseClient;
  let otherId: string;
  afterEach(async () => {
    peer?.close();
    await fx?.close();
  });

  async function hub(grants?: Parameters<typeof staticGrant>): Promise<void> {
    fx = await startHub(grants === undefined ? {} : { grants: staticGrant(...grants) });
    otherId = await createBucket(fx.influx, 'other');
    await createBucket(fx.influx, 'reports');
    peer = await rawLeaseClient(fx.port);
  }

  it('by default a lease writes the configured bucket and nothing else: 403 on any other bucket, and on reading', async () => {
    await hub([[{ resource: 'tessera', access: 'write' }]]);
    const created = await peer.call({ action: 'create' });
    expect(created.result, JSON.stringify(created)).to.equal('success');
    const token = created.lease!.value;
    expect(await writeTo(fx.influx, 'tessera', token)).to.equal(204);
    expect(await writeTo(fx.influx, 'other', token)).to.equal(403);
    expect(await writeTo(fx.influx, 'reports', token)).to.equal(403);
    expect(await readFrom(fx.influx, 'tessera', token)).to.equal(403);
  });

  it('refuses another bucket, org-wide, all-access, non-bucket and foreign-org permissions with not_allowed, creating nothing', async () => {
    await hub([[{ resource: 'tessera', access: 'write' }], [{ resource: 'reports', access: 'read' }]]);
    const refused: [string, object][] = [
      ['write on another bucket', { permissions: [{ action: 'write', bucket: 'other' }] }],
      ['read on the default bucket', { permissions: [{ action: 'read', bucket: 'tessera' }] }],
      ['write on the read-only grant', { permissions: [{ action: 'write', bucket: 'reports' }] }],
      ['another bucket by id', { permissions: [{ action: 'write', bucketID: otherId }] }],
      ['another bucket by id, named as the granted one', { permissions: [{ action: 'write', resource: { type: 'buckets', id: otherId, name: 'tessera' } }] }],
      ['org-wide write (no bucket)', { permissions: [{ action: 'write' }] }],
      ['org-wide read (API form)', { permissions: [{ action: 'read', resource: { type: 'buckets' } }] }],
      [
        'all-access (every resource type)',
        { permissions: ['authorizations', 'buckets', 'orgs', 'users'].flatMap((type) => ['read', 'write'].map((action) => ({ action, resource: { type } }))) },
      ],
      ['authorizations', { permissions: [{ action: 'write', resource: { type: 'authorizations' } }] }],
      ['another org', { orgID: 'ffffffffffffffff' }],
      ['a bucket of another org', { permissions: [{ action: 'write', resource: { type: 'buckets', name: 'tessera', orgID: 'ffffffffffffffff' } }] }],
      ['one granted, one not', { permissions: [{ action: 'write', bucket: 'tessera' }, { action: 'write', bucket: 'other' }] }],
    ];
    for (const [what, options] of refused) {
      const r = await peer.call({ action: 'create', options, request_id: what });
      expect(r, what).to.include({ result: 'failure', code: 'not_allowed', request_id: what });
      expect(r.message, what).to.match(/^not allowed: /);
    }
    expect(fx.influx.stats()[POST_AUTH] ?? 0, 'no token was created').to.equal(0);
  });

  it('a bucket id that names no bucket is refused exactly like one that is not granted (no oracle)', async () => {
    await hub([[{ resource: 'tessera', access: 'write' }]]);
    const missing = otherId.replace(/.$/, (c) => (c === '0' ? '1' : '0'));
    const exists = await peer.call({ action: 'create', options: { permissions: [{ action: 'write', bucketID: otherId }] } });
    const absent = await peer.call({ action: 'create', options: { permissions: [{ action: 'write', bucketID: missing }] } });
    expect(exists).to.deep.equal({ result: 'failure', code: 'not_allowed', message: `not allowed: write on bucket id ${otherId} is not granted to this caller` });
    expect(absent).to.deep.equal({ result: 'failure', code: 'not_allowed', message: `not allowed: write on bucket id ${missing} is not granted to this caller` });
  });

  it('grants a subset of what the hub lists: read on the listed bucket, by name or id, and only that', async () => {
    await hub([[{ resource: 'tessera', access: 'write' }], [{ resource: 'reports', access: 'read' }]]);
    const byName = await peer.call({ action: 'create', options: { permissions: [{ action: 'read', bucket: 'reports' }] } });
    expect(byName.result, JSON.stringify(byName)).to.equal('success');
    const token = byName.lease!.value;
    expect(await readFrom(fx.influx, 'reports', token)).to.equal(200);
    expect(await writeTo(fx.influx, 'reports', token)).to.equal(403);
    expect(await writeTo(fx.influx, 'tessera', token), 'a request that names privileges gets only those').to.equal(403);
    const both = await peer.call({
      action: 'create',
      options: { permissions: [{ action: 'write', resource: { type: 'buckets', name: 'tessera' } }, { action: 'read', bucket: 'reports' }] },
    });
    expect(both.result, JSON.stringify(both)).to.equal('success');
    expect(await writeTo(fx.influx, 'tessera', both.lease!.value)).to.equal(204);
    expect(await readFrom(fx.influx, 'reports', both.lease!.value)).to.equal(200);
    expect(await writeTo(fx.influx, 'other', both.lease!.value)).to.equal(403);
  });

  it('without a grant policy, a lease gets the cloud module default and a request naming privileges is not_allowed', async () => {
    await hub();
    const r = await peer.call({ action: 'create', options: { permissions: [{ action: 'write', bucket: 'tessera' }] } });
    expect(r).to.include({ result: 'failure', code: 'not_allowed' });
    const plain = await peer.call({ action: 'create' });
    expect(plain.result).to.equal('success');
    expect(await writeTo(fx.influx, 'tessera', plain.lease!.value)).to.equal(204);
    expect(await writeTo(fx.influx, 'other', plain.lease!.value)).to.equal(403);
  });
});

// Lease policies (packages/token-lease/README.md): the hub's rules decide, by a
// member's attributes, what its leases may do, how long they live and how many it
// may have. Through real secure channels, on influxdb-local and on a real influxd 1.x.
import { expect } from 'chai';
import { influxdbV1 } from '@tessera/cloud-influxdb';
import type { RunningInfluxd } from '@tessera/testing';
import {
  type Caller,
  type LeaseDecider,
  leaseDecisions,
  leaseGrant,
  type LeasePoliciesInput,
  parseLeasePolicies,
  ttlPolicy,
  type TtlPolicyInput,
} from '@tessera/token-lease';
import { adminQuery, influxdOrSkip, writeV1 } from '../../cloud-influxdb/test/helpers.js';
import { fakeClock } from './fixtures.js';
import { createBucket, readFrom, writeTo } from './influx-buckets.js';
import { closeDevices, type SecureHub, secureDevice, type SecureDevice, startSecureHub } from './secure-hub.js';

const HUB_TTL: TtlPolicyInput = { defaultTtl: 3_600_000, minTtl: 1_000, maxTtl: 3_600_000 };
const HUB_GRANT = leaseGrant([{ resource: 'tessera', access: 'write' }]);

/** The policies of the README's example. */
const POLICIES: LeasePoliciesInput = [
  {
    match: { role: 'device' },
    privileges: [{ resource: '{bucket}', actions: ['write'] }],
    ttl: { default: 60_000, min: 1_000, max: 600_000 },
    quotas: { maxActiveLeases: 2, createsPerMinute: 4 },
  },
  { match: { role: 'reader' }, privileges: [{ resource: 'metrics', actions: ['read'] }] },
];

/** The decisions of `policies` on this hub (null: none). */
function decider(policies: LeasePoliciesInput | null = POLICIES): LeaseDecider {
  return leaseDecisions(policies === null ? undefined : parseLeasePolicies(policies), { grant: HUB_GRANT, ttl: ttlPolicy(HUB_TTL) });
}

/** The message parseLeasePolicies refuses `policies` with. */
function refusal(policies: unknown): string {
  try {
    parseLeasePolicies(policies);
  } catch (err) {
    expect((err as Error).name).to.equal('InvalidOptionsError');
    return (err as Error).message;
  }
  throw new Error(`accepted: ${JSON.stringify(policies)}`);
}

describe('lease policies: the format', () => {
  const privileges = [{ resource: 'metrics', actions: ['write'] }];

  it('refuses what is wrong, naming the field by its path', () => {
    const cases: [unknown, string][] = [
      [[{ match: { role: 'device' }, privileges: [{ resource: 'metrics', actions: ['delete'] }] }], 'policies.0.privileges.0.actions.0'],
      [[{ privileges }, { privileges, priviledges: [] }], 'policies.1: Unrecognized key: "priviledges"'],
      [[{ privileges: [{ resource: 'metrics', actions: ['write'], bucket: 'x' }] }], 'policies.0.privileges.0: Unrecognized key: "bucket"'],
      [[{ privileges: [{ resource: '{bu cket}', actions: ['write'] }] }], 'policies.0.privileges.0.resource: a placeholder is {attribute}'],
      [[{ privileges: [{ resource: 'line-{bucket', actions: ['write'] }] }], 'policies.0.privileges.0.resource'],
      [[{ privileges: [] }], 'policies.0.privileges'],
      [[{ match: { role: 3 }, privileges }], 'policies.0.match.role'],
      [[{ privileges, ttl: { min: 10_000, max: 5_000 } }], 'policies.0.ttl.max: max must not be below min'],
      [[{ privileges, ttl: { default: 1.5 } }], 'policies.0.ttl.default'],
      [[{ privileges, ttl: { maximum: 5_000 } }], 'policies.0.ttl: Unrecognized key: "maximum"'],
      [[{ privileges, quotas: { maxActiveLeases: 0 } }], 'policies.0.quotas.maxActiveLeases'],
      [[{ privileges, quotas: { createsPerMinute: 1e9 } }], 'policies.0.quotas.createsPerMinute'],
      [[{ privileges: Array.from({ length: 33 }, (_, i) => ({ resource: `b${i}`, actions: ['write'] })) }], 'policies.0.privileges'],
      [Array.from({ length: 257 }, () => ({ privileges })), 'policies: '],
      [{ role: 'device' }, 'policies: '],
    ];
    for (const [policies, field] of cases) expect(refusal(policies), JSON.stringify(policies).slice(0, 120)).to.include(field);
  });

  it("refuses TTL bounds outside the hub's, naming the field", () => {
    const at = (ttl: object) => {
      try {
        decider([{ privileges: [{ resource: 'metrics', actions: ['write'] }] }, { privileges: [{ resource: 'metrics', actions: ['write'] }], ttl }]);
      } catch (err) {
        return (err as Error).message;
      }
      return 'accepted';
    };
    expect(at({ max: 7_200_000 })).to.include("policies.1.ttl.max: 7200000 ms is above the hub's maximum TTL 3600000 ms");
    expect(at({ min: 500 })).to.include("policies.1.ttl.min: 500 ms is below the hub's minimum TTL 1000 ms");
    expect(at({ max: 60_000 })).to.equal('accepted');
  });

  it('decides by the first rule that matches and whose placeholders resolve; an admin no rule matches keeps the hub defaults', () => {
    const decide = decider([
      { match: { role: 'device', site: 'north' }, privileges: [{ resource: 'north-{bucket}', actions: ['write'] }] },
      { match: { role: 'device' }, privileges: [{ resource: '{bucket}', actions: ['write'] }], extra: [{ resource: 'shared', actions: ['read'] }] },
      { match: { role: 'device' }, privileges: [{ resource: 'unsorted', actions: ['write'] }], ttl: { max: 60_000 } },
    ]);
    const caller = (attributes: Record<string, string>, admin = false): Caller => ({ owner: 'x', admin, attributes });
    expect(decide(caller({ role: 'device', site: 'north', bucket: 'b1' }))!.grant.default).to.deep.equal([{ resource: 'north-b1', access: 'write' }]);
    const south = decide(caller({ role: 'device', site: 'south', bucket: 'b1' }))!;
    expect(south.grant).to.deep.equal({ default: [{ resource: 'b1', access: 'write' }], allowed: [{ resource: 'b1', access: 'write' }, { resource: 'shared', access: 'read' }] });
    expect(south.ttl).to.deep.equal(ttlPolicy(HUB_TTL));
    expect(south.quotas).to.deep.equal({ maxActiveLeases: 100, createsPerMinute: 60 });
    // no bucket attribute (or an empty one): the placeholder rules do not match, the next does
    const unsorted = decide(caller({ role: 'device', bucket: '' }))!;
    expect(unsorted.grant.default).to.deep.equal([{ resource: 'unsorted', access: 'write' }]);
    expect(unsorted.ttl).to.include({ maxTtl: 60_000, defaultTtl: 60_000, minTtl: 1_000 });
    expect(decide(caller({ role: 'reader' }))).to.equal(undefined);
    expect(decide({ owner: 'anonymous', admin: false })).to.equal(undefined);
    expect(decide(caller({ role: 'admin' }, true))!.grant).to.equal(HUB_GRANT);
    // without policies, everyone gets the hub's defaults
    expect(decider(null)(caller({ role: 'reader' }))!.grant).to.equal(HUB_GRANT);
  });

  it('takes a placeholder value only if it is a letter or digit, then letters, digits, ".", "_" or "-", 255 at most; any other makes the rule not match', () => {
    const decide = decider([
      { match: { role: 'device' }, privileges: [{ resource: '{bucket}', actions: ['write'] }] },
      { match: { role: 'device' }, privileges: [{ resource: 'unsorted', actions: ['write'] }] },
    ]);
    const bucketOf = (bucket: string) => decide({ owner: 'x', admin: false, attributes: { role: 'device', bucket } })!.grant.default[0]!.resource;
    for (const fit of ['line-7', 'a', '7', 'Line_7.v2', 'x'.repeat(255)]) expect(bucketOf(fit), fit).to.equal(fit);
    for (const unfit of ['_internal', '../x', '.hidden', '-x', 'a/b', 'a b', 'x'.repeat(256), 'line\u00e9', 'a:b', 'a\nb']) {
      expect(bucketOf(unfit), JSON.stringify(unfit)).to.equal('unsorted');
    }
  });
});

describe('lease policies on a secure hub (influxdb-local)', function () {
  this.timeout(30_000);
  let hub: SecureHub;
  afterEach(async () => {
    await closeDevices();
    await hub?.close();
  });

  async function start(): Promise<void> {
    const { clock } = fakeClock(); // the create rate refills only when a test says so
    hub = await startSecureHub({ clock, policy: HUB_TTL, decisions: decider() });
    for (const bucket of ['line-1', 'line-2', 'metrics']) await createBucket(hub.fx.influx, bucket);
  }

  async function member(attributes: Record<string, string>, admin = false): Promise<SecureDevice> {
    const device = await secureDevice(hub.fx.port, hub.identifier);
    hub.members.set(device.identifier, { attributes, admin });
    return device;
  }

  it('gives a device exactly write on the bucket its attribute names: 403 on any other, and no read', async () => {
    await start();
    const one = await member({ role: 'device', bucket: 'line-1' });
    const two = await member({ role: 'device', bucket: 'line-2' });
    const lease = (await one.call({ action: 'create' })).lease!;
    expect(lease.ttl, "the rule's default TTL").to.equal(60_000);
    const influx = hub.fx.influx;
    expect(await writeTo(influx, 'line-1', lease.value)).to.equal(204);
    expect(await writeTo(influx, 'line-2', lease.value)).to.equal(403);
    expect(await writeTo(influx, 'tessera', lease.value), "the hub's default grant is not the device's").to.equal(403);
    expect(await readFrom(influx, 'line-1', lease.value)).to.equal(403);
    const other = (await two.call({ action: 'create' })).lease!;
    expect(await writeTo(influx, 'line-2', other.value)).to.equal(204);
    expect(await writeTo(influx, 'line-1', other.value)).to.equal(403);

    const beyond = await one.call({ action: 'create', options: { permissions: [{ action: 'write', bucket: 'line-2' }] } });
    expect(beyond).to.deep.equal({ result: 'failure', code: 'not_allowed', message: 'not allowed: write on bucket "line-2" is not granted to this caller' });
    const tooLong = await one.call({ action: 'create', options: { ttl: 600_001 } });
    expect(tooLong).to.include({ result: 'failure', code: 'invalid_request', message: 'ttl 600001 ms is above the maximum 600000 ms' });

    const reader = await member({ role: 'reader' });
    const read = (await reader.call({ action: 'create' })).lease!;
    expect(read.ttl, "the hub's default TTL").to.equal(3_600_000);
    expect(await readFrom(influx, 'metrics', read.value)).to.equal(200);
    expect(await writeTo(influx, 'metrics', read.value)).to.equal(403);
  });

  it("holds a device to its rule's quotas: active leases, then creates per minute (a refused create counts)", async () => {
    await start();
    const device = await member({ role: 'device', bucket: 'line-1' });
    const first = (await device.call({ action: 'create' })).lease!;
    expect((await device.call({ action: 'create' })).result).to.equal('success');
    expect(await device.call({ action: 'create' })).to.deep.equal({ result: 'failure', code: 'quota_exceeded', message: 'quota exceeded: at most 2 active leases per caller' });
    expect((await device.call({ action: 'revoke', token_id: first.id })).result).to.equal('success');
    const third = await device.call({ action: 'create' });
    expect(third.result, 'room again after a revoke').to.equal('success');
    expect((await device.call({ action: 'revoke', token_id: third.lease!.id })).result).to.equal('success');
    const fourth = await device.call({ action: 'create' });
    expect(fourth).to.include({ result: 'failure', code: 'quota_exceeded' });
    expect(fourth.message).to.match(/^quota exceeded: at most 4 creates per minute per caller/);
    // another device has quotas of its own
    expect((await (await member({ role: 'device', bucket: 'line-2' })).call({ action: 'create' })).result).to.equal('success');
  });

  it('refuses to create and renew for a member no rule matches; it may still see and revoke its leases; an admin gets the hub defaults', async () => {
    await start();
    for (const attributes of [{ role: 'device' }, { role: 'visitor', bucket: 'line-1' }, {}] as Record<string, string>[]) {
      const stranger = await member(attributes);
      expect(await stranger.call({ action: 'create', request_id: 'c' })).to.deep.equal({
        result: 'failure',
        code: 'not_allowed',
        message: 'not allowed: no lease policy of this hub applies to this caller',
        request_id: 'c',
      });
    }
    const device = await member({ role: 'device', bucket: 'line-1' });
    const lease = (await device.call({ action: 'create' })).lease!;
    hub.members.set(device.identifier, { attributes: { role: 'visitor' }, admin: false });
    expect(await device.call({ action: 'renew', token_id: lease.id })).to.include({ result: 'failure', code: 'not_allowed' });
    expect((await device.call({ action: 'get', token_id: lease.id })).lease!.id).to.equal(lease.id);
    expect(await device.call({ action: 'revoke', token_id: lease.id })).to.deep.equal({ result: 'success' });
    expect(await writeTo(hub.fx.influx, 'line-1', lease.value)).to.equal(401);

    const admin = await member({ role: 'admin' }, true);
    const own = (await admin.call({ action: 'create' })).lease!;
    expect(await writeTo(hub.fx.influx, 'tessera', own.value)).to.equal(204);
  });
});

describe('lease policies on a secure hub (influxdb-v1 on a real influxd)', function () {
  this.timeout(60_000);
  let influxd: RunningInfluxd;
  let hub: SecureHub | undefined;
  before(async function () {
    influxd = await influxdOrSkip(this);
    for (const db of ['line-1', 'line-2']) await adminQuery(influxd, `CREATE DATABASE "${db}"`);
  });
  after(async () => {
    await closeDevices();
    await hub?.close();
    await influxd?.stop();
  });

  it('gives a device a user that writes the database its attribute names, and gets 403 on another', async () => {
    const cloud = () => influxdbV1({ url: influxd.url, username: influxd.adminUser, password: influxd.adminPassword, grants: [{ database: 'line-1', privilege: 'WRITE' }] });
    hub = await startSecureHub({ cloud, policy: HUB_TTL, decisions: decider() });
    const device = await secureDevice(hub.fx.port, hub.identifier);
    hub.members.set(device.identifier, { attributes: { role: 'device', bucket: 'line-2' }, admin: false });
    const lease = (await device.call({ action: 'create' })).lease!;
    expect(await writeV1(influxd.url, 'line-2', lease.value)).to.equal(204);
    expect(await writeV1(influxd.url, 'line-1', lease.value)).to.equal(403);
    expect(await device.call({ action: 'revoke', token_id: lease.id })).to.deep.equal({ result: 'success' });
    expect(await writeV1(influxd.url, 'line-2', lease.value)).to.equal(401);
  });
});

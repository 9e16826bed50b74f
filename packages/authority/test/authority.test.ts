import { randomBytes } from 'node:crypto';
import { expect } from 'chai';
import {
  Authority,
  InvalidAuthorityOptionsError,
  InvalidAuthorityRequestError,
  memoryMemberStore,
  type MemberStore,
  type MemberStoreLimits,
  newBootstrapToken,
  redisMemberStore,
} from '@tessera/authority';
import { Ed25519Identity, trustedAuthorities, verifyCredential } from '@tessera/secure-channel';
import { startRedisServer, type RedisServer } from '@tessera/testing';
import { stopAll } from '../../secure-channel/test/channel-helpers.js';
import { type Answer, startHub, TestDevice, type TestHub } from './authority-helpers.js';

const stores: Array<{ name: string; create: (limits?: Partial<MemberStoreLimits>) => MemberStore }> = [];
let redis: RedisServer | undefined;
stores.push({ name: 'memory', create: (limits = {}) => memoryMemberStore(limits) });
stores.push({ name: 'redis', create: (limits = {}) => redisMemberStore({ ...limits, redis: redis!.url, keyPrefix: `tessera:{${randomBytes(8).toString('hex')}}:auth:` }) });

const REFUSED = { result: 'failure', code: 'not_allowed' };

for (const kind of stores) {
  describe(`Authority over secure channels (docs/protocol.md §6), ${kind.name} store`, function () {
    this.timeout(30_000);
    const open: MemberStore[] = [];
    const hubWith = async (options: Parameters<typeof startHub>[1] = {}, limits: Partial<MemberStoreLimits> = {}): Promise<TestHub> => {
      const store = kind.create(limits);
      open.push(store);
      return await startHub(store, options);
    };

    before(async () => {
      if (kind.name === 'redis') redis = await startRedisServer();
    });
    after(async () => {
      if (kind.name === 'redis') await redis?.stop();
    });
    afterEach(async () => {
      await stopAll();
      await Promise.all(open.splice(0).map((s) => s.close()));
    });

    it('enrolls an identity once with a one-use token; the same identity again and a second identity are refused', async () => {
      const hub = await hubWith();
      const enrolled: Array<{ identifier: string; reference: string }> = [];
      hub.authority.on('enrolled', (e) => enrolled.push(e));
      const { token, reference } = await hub.authority.createToken({ attributes: { role: 'device', bucket: 'metrics' } });
      const device = TestDevice.create(hub);
      const first = await device.channel();
      const answer = await first.ask({ action: 'enroll', token, request_id: 'r1' });
      expect(answer).to.include({ result: 'success', identifier: first.identifier, request_id: 'r1' });
      expect(answer['attributes']).to.deep.equal({ role: 'device', bucket: 'metrics' });
      expect(enrolled).to.deep.equal([{ identifier: first.identifier, reference }]);

      const again = await first.ask({ action: 'enroll', token, request_id: 'r2' });
      expect(again).to.include({ ...REFUSED, request_id: 'r2' });
      const second = await device.channel(Ed25519Identity.generate());
      const other = await second.ask({ action: 'enroll', token });
      expect(other).to.include(REFUSED);
      expect(other.message).to.equal(again.message);
      expect(await hub.authority.membership(second.identifier)).to.equal(undefined);
    });

    it("the credential of enroll and of credential verifies with the hub's key and carries the token's attributes", async () => {
      const hub = await hubWith({ credentialTtl: 120_000 });
      const { token } = await hub.authority.createToken({ attributes: { role: 'device', bucket: 'metrics' } });
      const party = await TestDevice.create(hub).channel();
      const check = (credential: unknown) =>
        verifyCredential(credential as string, { authorities: trustedAuthorities([hub.identity.publicKey]), subject: party.identifier, clock: hub.clock });

      const enrolled = check((await party.ask({ action: 'enroll', token }))['credential']);
      expect(enrolled).to.deep.include({ issuer: hub.identifier, subject: party.identifier, attributes: { role: 'device', bucket: 'metrics' } });
      expect(enrolled.expiresAt - enrolled.issuedAt).to.equal(120);

      hub.tick(60_000);
      const fresh = check((await party.ask({ action: 'credential', request_id: 'c1' }))['credential']);
      expect(fresh.issuedAt).to.equal(enrolled.issuedAt + 60);
      expect(fresh.attributes).to.deep.equal({ role: 'device', bucket: 'metrics' });
    });

    it('refuses expired, unknown, used-up and malformed tokens, a member enrolling again and a full store alike, word for word', async () => {
      // room for one member: once it enrolled, a valid token is refused for want of room
      const hub = await hubWith({ tokenTtl: 1000 }, { maxMembers: 1 });
      const expiring = await hub.authority.createToken({ attributes: {} });
      const used = await hub.authority.createToken({ attributes: {}, ttl: 60_000 });
      const valid = await hub.authority.createToken({ attributes: {}, ttl: 60_000, uses: 5 });
      const device = TestDevice.create(hub);
      const member = await device.channel();
      expect((await member.ask({ action: 'enroll', token: used.token })).result).to.equal('success');
      hub.tick(1000);

      const answers: Answer[] = [];
      for (const token of [expiring.token, newBootstrapToken(), used.token, 'not a token', `${used.token}=`, valid.token]) {
        answers.push(await (await device.channel(Ed25519Identity.generate())).ask({ action: 'enroll', token }));
      }
      answers.push(await member.ask({ action: 'enroll', token: valid.token }));
      for (const answer of answers) expect(answer).to.deep.equal(answers[0]);
      expect(answers[0]).to.include(REFUSED);
      // the log alone says why, by the token's reference: the first of each reason at once, the others counted in a line a minute later
      const refusals = hub.logs.filter((l) => l.includes('enrollment refused')).map((l) => JSON.parse(l) as { reason: string; reference: string });
      expect(refusals.map((r) => r.reason)).to.deep.equal(['expired', 'unknown', 'full', 'already_member']);
      expect(refusals.at(-2)!.reference).to.equal(valid.reference);
      expect(refusals.at(-1)!.reference).to.equal(valid.reference);
      hub.tick(60_000);
      expect(JSON.parse(hub.logs.at(-1)!)).to.deep.include({ msg: 'enrollment refusals not logged one by one, by reason', refused: { unknown: 3 } });
      expect(hub.authority.enrollRefusals()).to.deep.equal({ unknown: 4, expired: 1, used_up: 0, already_member: 1, full: 1 });
    });

    it('a token of uses=3 enrolls exactly three identities', async () => {
      const hub = await hubWith();
      const { token } = await hub.authority.createToken({ attributes: { role: 'device' }, uses: 3 });
      const device = TestDevice.create(hub);
      const results: string[] = [];
      for (let i = 0; i < 4; i++) results.push((await (await device.channel(Ed25519Identity.generate())).ask({ action: 'enroll', token })).result);
      expect(results).to.deep.equal(['success', 'success', 'success', 'failure']);
    });

    it('of 50 concurrent channels redeeming one one-use token, exactly one succeeds', async () => {
      const hub = await hubWith();
      const { token } = await hub.authority.createToken({ attributes: { role: 'device' } });
      const device = TestDevice.create(hub);
      const parties = await Promise.all(Array.from({ length: 50 }, () => device.channel(Ed25519Identity.generate())));
      const answers = await Promise.all(parties.map((p) => p.ask({ action: 'enroll', token })));
      const winners = parties.filter((_, i) => answers[i]!.result === 'success');
      expect(winners).to.have.length(1);
      expect(answers.filter((a) => a.code === 'not_allowed')).to.have.length(49);
      const members = await Promise.all(parties.map((p) => hub.authority.membership(p.identifier)));
      expect(members.filter((m) => m !== undefined).map((m) => m!.identifier)).to.deep.equal([winners[0]!.identifier]);
    });

    it('gives no credential to a non-member, and lets no member that is not an admin make tokens, list or remove', async () => {
      const hub = await hubWith();
      const device = TestDevice.create(hub);
      const stranger = await device.channel(Ed25519Identity.generate());
      expect(await stranger.ask({ action: 'credential' })).to.include(REFUSED);

      const { token } = await hub.authority.createToken({ attributes: { role: 'device' } });
      const member = await device.channel();
      await member.ask({ action: 'enroll', token });
      for (const party of [stranger, member]) {
        expect(await party.ask({ action: 'create_token', attributes: { role: 'admin' } })).to.include(REFUSED);
        expect(await party.ask({ action: 'members' })).to.include(REFUSED);
        expect(await party.ask({ action: 'remove', identifier: member.identifier })).to.include(REFUSED);
      }
      expect(await hub.authority.membership(member.identifier)).to.deep.equal({ identifier: member.identifier, attributes: { role: 'device' }, admin: false });
    });

    it('an admin named in the configuration makes tokens, lists members and removes them', async () => {
      const operator = Ed25519Identity.generate();
      const hub = await hubWith({ admins: [operator.identifier] });
      expect(await hub.authority.membership(operator.identifier)).to.deep.equal({ identifier: operator.identifier, attributes: {}, admin: true });
      const device = TestDevice.create(hub);
      const admin = await device.channel(operator);

      const made = await admin.ask({ action: 'create_token', attributes: { role: 'device', site: 'north' }, uses: 2, ttl: 60_000, request_id: 't1' });
      expect(made).to.include({ result: 'success', request_id: 't1' });
      expect(made['token']).to.match(/^[A-Za-z0-9_-]{43}$/);
      expect(made['reference']).to.be.a('string').and.not.equal(made['token']);
      expect(Date.parse(made['expires'] as string)).to.equal(hub.clock.now() + 60_000);

      const party = await device.channel(Ed25519Identity.generate());
      expect((await party.ask({ action: 'enroll', token: made['token'] })).result).to.equal('success');
      const listed = await admin.ask({ action: 'members' });
      expect(listed).to.deep.equal({
        result: 'success',
        members: [{ identifier: party.identifier, attributes: { role: 'device', site: 'north' }, enrolledAt: new Date(hub.clock.now()).toISOString() }],
      });
    });

    it('an identity enrolled with role=admin is an admin', async () => {
      const hub = await hubWith();
      const { token } = await hub.authority.createToken({ attributes: { role: 'admin' } });
      const device = TestDevice.create(hub);
      const admin = await device.channel();
      await admin.ask({ action: 'enroll', token });
      expect((await hub.authority.membership(admin.identifier))?.admin).to.equal(true);
      const made = await admin.ask({ action: 'create_token', attributes: { role: 'device' } });
      expect(made.result).to.equal('success');
      const party = await device.channel(Ed25519Identity.generate());
      expect((await party.ask({ action: 'enroll', token: made['token'] })).result).to.equal('success');
      const listed = (await admin.ask({ action: 'members' }))['members'] as Array<{ identifier: string }>;
      expect(listed.map((m) => m.identifier)).to.deep.equal([admin.identifier, party.identifier].sort());
      // a page after the first member holds the second only
      const rest = await admin.ask({ action: 'members', after: listed[0]!.identifier });
      expect((rest['members'] as Array<{ identifier: string }>).map((m) => m.identifier)).to.deep.equal([listed[1]!.identifier]);
      expect(rest).not.to.have.property('next');
    });

    it('remove ends a membership at once and emits removed; the identity gets no more credentials', async () => {
      const operator = Ed25519Identity.generate();
      const hub = await hubWith({ admins: [operator.identifier] });
      const removed: string[] = [];
      hub.authority.on('removed', (identifier) => removed.push(identifier));
      const device = TestDevice.create(hub);
      const admin = await device.channel(operator);
      const party = await device.channel(Ed25519Identity.generate());
      const { token } = await hub.authority.createToken({ attributes: { role: 'device' } });
      await party.ask({ action: 'enroll', token });

      expect(await admin.ask({ action: 'remove', identifier: party.identifier, request_id: 'x' })).to.deep.equal({ result: 'success', identifier: party.identifier, request_id: 'x' });
      expect(removed).to.deep.equal([party.identifier]);
      expect(await hub.authority.membership(party.identifier)).to.equal(undefined);
      expect(await party.ask({ action: 'credential' })).to.include(REFUSED);
      expect(await admin.ask({ action: 'remove', identifier: party.identifier })).to.include({ result: 'failure', code: 'not_found' });
      expect(removed).to.have.length(1);
    });

    it('refuses a request that did not come through a secure channel', async () => {
      const hub = await hubWith();
      const { token } = await hub.authority.createToken({ attributes: { role: 'admin' } });
      const answer = await TestDevice.create(hub).plaintext({ action: 'enroll', token, request_id: 'p1' });
      expect(answer).to.include({ ...REFUSED, request_id: 'p1' });
      expect(answer.message).to.match(/^not allowed: a secure channel is required/);
      // the token is still good
      expect((await (await TestDevice.create(hub).channel()).ask({ action: 'enroll', token })).result).to.equal('success');
    });

    it('answers invalid_request to what is not a request, echoing request_id', async () => {
      const hub = await hubWith();
      const party = await TestDevice.create(hub).channel();
      const asked = async (payload: string) => JSON.parse(await party.askRaw(payload)) as Answer;
      expect(await asked('{not json')).to.include({ result: 'failure', code: 'invalid_request' });
      expect(await asked('[1,2]')).to.include({ code: 'invalid_request' });
      expect(await asked(JSON.stringify({ action: 'steal', request_id: 'a' }))).to.include({ code: 'invalid_request', request_id: 'a' });
      expect(await asked(JSON.stringify({ action: 'enroll', request_id: 'b' }))).to.include({ code: 'invalid_request', request_id: 'b' });
      expect(await asked(JSON.stringify({ action: 'remove', identifier: 'nobody', request_id: 'c' }))).to.include({ code: 'invalid_request', request_id: 'c' });
      expect(await asked(JSON.stringify({ action: 'create_token', attributes: { role: 1 }, request_id: 'd' }))).to.include({ code: 'invalid_request', request_id: 'd' });
      expect(Buffer.from(await party.askRaw(new Uint8Array([0xff, 0xfe]))).toString()).to.include('invalid_request');
    });

    it('never logs a token or a credential, only references', async () => {
      const operator = Ed25519Identity.generate();
      const hub = await hubWith({ admins: [operator.identifier] });
      const device = TestDevice.create(hub);
      const admin = await device.channel(operator);
      const made = await admin.ask({ action: 'create_token', attributes: { role: 'device' } });
      const party = await device.channel(Ed25519Identity.generate());
      const enrolled = await party.ask({ action: 'enroll', token: made['token'] });
      const refused = await (await device.channel(Ed25519Identity.generate())).ask({ action: 'enroll', token: made['token'] });
      const credential = await party.ask({ action: 'credential' });
      expect(refused.result).to.equal('failure');
      const logs = hub.logs.join('\n');
      expect(logs).to.include(made['reference'] as string);
      for (const secret of [made['token'], enrolled['credential'], credential['credential']] as string[]) expect(logs).not.to.include(secret);
    });
  });
}

describe('Authority', function () {
  this.timeout(30_000);
  afterEach(stopAll);

  it('answers quota_exceeded to an identity beyond its requests in flight, and serves the others', async () => {
    const inner = memoryMemberStore();
    let open: () => void = () => undefined;
    const gate = new Promise<void>((resolve) => (open = resolve));
    // a store that is slow to answer who is a member, until the gate opens
    const slow: MemberStore = { ...bind(inner), member: async (identifier) => (await gate, await inner.member(identifier)) };
    const hub = await startHub(slow, { callerConcurrency: 2 });
    const { token } = await hub.authority.createToken({ attributes: {} });
    const device = TestDevice.create(hub);
    const party = await device.channel();
    await party.ask({ action: 'enroll', token });

    const waiting = [party.ask({ action: 'credential' }), party.ask({ action: 'credential' })];
    const third = await party.ask({ action: 'credential', request_id: 'q' });
    expect(third).to.include({ result: 'failure', code: 'quota_exceeded', request_id: 'q' });
    const other = await device.channel(Ed25519Identity.generate());
    const otherAnswer = other.ask({ action: 'credential' });
    open();
    expect((await Promise.all(waiting)).map((a) => a.result)).to.deep.equal(['success', 'success']);
    expect((await otherAnswer).code).to.equal('not_allowed');
    expect(hub.authority.stats()).to.deep.equal({ running: 0, callers: 0 });
  });

  it("answers anyone, member or not, with fixed words while the store is down or fails; only the hub's log has what it said", async () => {
    const server = await startRedisServer();
    const store = redisMemberStore({ redis: server.url, keyPrefix: `tessera:{${randomBytes(8).toString('hex')}}:auth:` });
    try {
      const hub = await startHub(store);
      const { token } = await hub.authority.createToken({ attributes: { role: 'device' } });
      const device = TestDevice.create(hub);
      const member = await device.channel();
      expect((await member.ask({ action: 'enroll', token })).result).to.equal('success');
      const stranger = await device.channel(Ed25519Identity.generate());
      await server.stop();
      const unavailable = { result: 'failure', code: 'unavailable', message: 'unavailable: the member store cannot serve now; try again later' };
      expect(await stranger.ask({ action: 'credential', request_id: 's' })).to.deep.equal({ ...unavailable, request_id: 's' });
      expect(await member.ask({ action: 'credential', request_id: 'm' })).to.deep.equal({ ...unavailable, request_id: 'm' });
      expect(await stranger.ask({ action: 'members' })).to.deep.equal(unavailable);
      const logged = hub.logs.filter((l) => l.includes('authority request failed'));
      expect(logged).to.have.length(3);
      expect(logged[0]).to.include('Redis unavailable');
    } finally {
      await store.close();
      await server.stop();
    }
  });

  it('answers an unforeseen failure internal, in fixed words', async () => {
    const inner = memoryMemberStore();
    const failing: MemberStore = { ...bind(inner), member: () => Promise.reject(new Error('ERR wrong password for user "hub" at 10.1.2.3:6379')) };
    const hub = await startHub(failing);
    const party = await TestDevice.create(hub).channel();
    expect(await party.ask({ action: 'credential' })).to.deep.equal({ result: 'failure', code: 'internal', message: "internal error: the authority failed; the hub's log says why" });
    expect(hub.logs.join('\n')).to.include('wrong password');
  });

  it('logs a flood of refused enrollments as the first of each reason at once, then one line per minute with counts; counts every one by reason', async () => {
    const hub = await startHub(memoryMemberStore());
    const expired = await Promise.all([1, 2, 3, 4, 5].map(() => hub.authority.createToken({ attributes: {}, ttl: 1_000 })));
    hub.tick(1_000);
    const device = TestDevice.create(hub);
    const refusalLines = () => hub.logs.filter((l) => l.includes('enrollment refus')).map((l) => JSON.parse(l) as Record<string, unknown>);
    const flood = await device.channel(Ed25519Identity.generate());
    for (let n = 0; n < 50; n++) await flood.ask({ action: 'enroll', token: newBootstrapToken() });
    for (const { token } of expired) await flood.ask({ action: 'enroll', token });
    expect(refusalLines().map((l) => [l['msg'], l['reason']])).to.deep.equal([
      ['enrollment refused', 'unknown'],
      ['enrollment refused', 'expired'],
    ]);
    expect(refusalLines()[1]).to.include({ reference: expired[0]!.reference });
    expect(hub.authority.enrollRefusals()).to.include({ unknown: 50, expired: 5, used_up: 0 });

    hub.tick(59_999);
    expect(refusalLines()).to.have.length(2);
    hub.tick(1);
    expect(refusalLines()).to.have.length(3);
    expect(refusalLines()[2]).to.deep.include({ level: 'info', refused: { unknown: 49, expired: 4 } });
    // the flood goes on: one more line a minute later, with what came meanwhile
    for (let n = 0; n < 10; n++) await flood.ask({ action: 'enroll', token: newBootstrapToken() });
    hub.tick(60_000);
    expect(refusalLines()).to.have.length(4);
    expect(refusalLines()[3]).to.deep.include({ refused: { unknown: 10 } });
    // a quiet minute ends the summary: the next refusal is logged at once
    hub.tick(60_000);
    expect(refusalLines()).to.have.length(4);
    await flood.ask({ action: 'enroll', token: newBootstrapToken() });
    expect(refusalLines().at(-1)).to.include({ msg: 'enrollment refused', reason: 'unknown' });
    expect(hub.authority.enrollRefusals()).to.include({ unknown: 61, expired: 5 });
    for (const { token } of expired) expect(hub.logs.join('\n')).not.to.include(token);
  });

  it('checks its options and createToken checks what it is asked for', async () => {
    const identity = Ed25519Identity.generate();
    const store = memoryMemberStore();
    expect(() => new Authority({ store, identity, admins: ['root'] })).to.throw(InvalidAuthorityOptionsError);
    expect(() => new Authority({ store, identity, credentialTtl: 10 })).to.throw(InvalidAuthorityOptionsError);
    expect(() => new Authority({ store, identity, credentialTtl: 7 * 24 * 3_600_000 })).to.not.throw();
    expect(() => new Authority({ store, identity, credentialTtl: 7 * 24 * 3_600_000 + 1000 })).to.throw(InvalidAuthorityOptionsError, /at most 604800000 ms \(7 days\)/);
    const authority = new Authority({ store, identity });
    const bads: Array<{ attributes: Record<string, string>; uses?: number; ttl?: number }> = [{ attributes: { role: 'x' }, uses: 0 }, { attributes: { role: 'x' }, ttl: -1 }, { attributes: { ['a'.repeat(65)]: 'x' } }, { attributes: { v: 'x'.repeat(257) } }];
    for (const bad of bads) {
      expect(await authority.createToken(bad).catch((e: unknown) => e)).to.be.instanceOf(InvalidAuthorityRequestError);
    }
    const tooMany = Object.fromEntries(Array.from({ length: 65 }, (_, i) => [`k${i}`, 'v']));
    expect(await authority.createToken({ attributes: tooMany }).catch((e: unknown) => e)).to.be.instanceOf(InvalidAuthorityRequestError);
    expect(await authority.membership('not an identifier')).to.equal(undefined);
  });
});

/** The store's methods bound to it, to wrap one of them. */
function bind(store: MemberStore): MemberStore {
  return {
    init: () => store.init(),
    addToken: (t, now) => store.addToken(t, now),
    redeem: (h, i, now) => store.redeem(h, i, now),
    member: (i) => store.member(i),
    members: (p) => store.members(p),
    remove: (i) => store.remove(i),
    close: () => store.close(),
  };
}

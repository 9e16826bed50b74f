// The operator's view of a secure hub (docs/protocol.md §8): the hub_events
// worker, through real secure channels to a hub started in this process.
import { expect } from 'chai';
import { fromUtf8, local, route } from '@tessera/core';
import { HubEventSchema, SnapshotSchema, SUBSCRIPTION_LIMITS, type HubEvent } from '@tessera/console';
import { Ed25519Identity } from '@tessera/secure-channel';
import { waitUntil } from '@tessera/testing';
import type { LeaseRecord } from '@tessera/token-lease';
import type { HubConfigInput } from '../src/hub/hub-config.js';
import type { Hub } from '../src/hub/start-hub.js';
import { type Answer, SecureHubFixture } from './secure-hub-fixture.js';

describe("the operator's view of a secure hub (hub_events, docs/protocol.md §8)", function () {
  this.timeout(60_000);
  let fx: SecureHubFixture;

  beforeEach(() => {
    fx = new SecureHubFixture('hub-events');
  });
  afterEach(() => fx.stop());

  const hub = (config: HubConfigInput = {}) => fx.hub(config);

  /** A peer with an inbox worker where a subscription's answer and events arrive (raw text kept). */
  async function peer(h: Hub, identity = Ed25519Identity.generate()) {
    const p = await fx.peer(h, identity);
    const { node, channel } = p;
    const inbox: string[] = [];
    await node.startWorker('inbox', (_ctx, msg) => void inbox.push(fromUtf8(msg.payload)));
    /** Subscribes from the inbox; resolves with the answer (the first message there that is one). */
    const subscribe = async (): Promise<Answer> => {
      const before = inbox.length;
      node.send([channel.address, local('hub_events')], JSON.stringify({ action: 'subscribe', request_id: 's1' }), { returnRoute: [local('inbox')] });
      await waitUntil('the answer to subscribe', () => inbox.slice(before).some((t) => 'result' in JSON.parse(t)));
      return JSON.parse(inbox.slice(before).find((t) => 'result' in JSON.parse(t))!) as Answer;
    };
    const events = (): HubEvent[] => inbox.map((t) => JSON.parse(t) as { event?: string }).filter((v) => v.event !== undefined).map((v) => HubEventSchema.parse(v));
    return { ...p, inbox, subscribe, events };
  }

  async function enrolled(h: Hub, admin: Awaited<ReturnType<typeof peer>>, attributes: Record<string, string> = { role: 'device' }) {
    const made = await admin.ask('authority', { action: 'create_token', attributes });
    const device = await peer(h);
    expect((await device.ask('authority', { action: 'enroll', token: made.token })).result).to.equal('success');
    return device;
  }

  it('gives an admin a snapshot, then every lease and member event, and never a lease value', async () => {
    const adminIdentity = Ed25519Identity.generate();
    const h = await hub({ admin: [adminIdentity.identifier], defaultTtl: 60_000, maxTtl: 600_000 });
    const admin = await peer(h, adminIdentity);
    const device = await enrolled(h, admin);
    const first = await device.ask('token_lease', { action: 'create', options: { ttl: 60_000 } });
    expect(first.result).to.equal('success');
    const values = [first.lease!.value];

    const answer = await admin.subscribe();
    expect(answer).to.include({ result: 'success' });
    expect(answer.subscription).to.match(/^[0-9a-f]{32}$/);
    const snapshot = SnapshotSchema.parse(answer.snapshot);
    expect(snapshot.leaseCount).to.equal(1);
    expect(snapshot.leases[0]).to.deep.include({ id: first.lease!.id, owner: device.identity.identifier, attributes: { role: 'device' }, renewals: 0 });
    expect(snapshot.leases[0]!.privileges).to.deep.equal([{ resource: 'tessera', access: 'write' }]);
    const listed = snapshot.members.find((m) => m.identifier === device.identity.identifier)!;
    expect(listed.activeLeases).to.equal(1);
    expect(listed.lastSeen, 'it sent requests through its channel').to.be.a('string');
    expect(snapshot.health).to.include({ storage: 'ok', insecure: false });
    expect(snapshot.history).to.have.length(60);
    expect(snapshot.history.at(-1)!.issued).to.equal(1);

    // a lease issued, renewed and revoked; a member enrolled and removed (its lease revoked with it)
    const second = await device.ask('token_lease', { action: 'create', options: { ttl: 60_000 } });
    values.push(second.lease!.value);
    const renewed = await device.ask('token_lease', { action: 'renew', token_id: second.lease!.id, ttl: 90_000 });
    values.push(renewed.lease!.value);
    expect((await admin.ask('token_lease', { action: 'revoke', token_id: first.lease!.id })).result).to.equal('success');
    const other = await enrolled(h, admin, { role: 'device', site: 'north' });
    expect((await admin.ask('authority', { action: 'remove', identifier: device.identity.identifier })).result).to.equal('success');
    await waitUntil('the removal’s revocation to be told', () => admin.events().some((e) => e.event === 'lease_revoked' && e.id === second.lease!.id));

    const events = admin.events();
    expect(events.map((e) => e.seq)).to.deep.equal(events.map((_, i) => i + 1));
    expect(new Set(events.map((e) => e.subscription))).to.deep.equal(new Set([answer.subscription]));
    const of = <K extends HubEvent['event']>(kind: K) => events.filter((e): e is Extract<HubEvent, { event: K }> => e.event === kind);
    expect(of('lease_issued').map((e) => e.lease.id)).to.deep.equal([second.lease!.id]);
    expect(of('lease_issued')[0]!.lease.attributes).to.deep.equal({ role: 'device' });
    expect(of('lease_renewed')[0]!.lease).to.include({ id: second.lease!.id, renewals: 1, ttl: 90_000 });
    expect(of('lease_revoked').map((e) => [e.id, e.reason])).to.deep.equal([
      [first.lease!.id, 'revoked'],
      [second.lease!.id, 'member_removed'],
    ]);
    expect(of('member_enrolled').map((e) => [e.member.identifier, e.member.attributes])).to.deep.equal([[other.identity.identifier, { role: 'device', site: 'north' }]]);
    expect(of('member_removed').map((e) => e.identifier)).to.deep.equal([device.identity.identifier]);
    // no lease value anywhere in what the admin received (the answer with its snapshot included)
    for (const text of admin.inbox) for (const value of values) expect(text.includes(value), 'a lease value reached the operator').to.equal(false);
  });

  it('refuses plaintext and members that are not admins, and answers a bad request with its request_id', async () => {
    const adminIdentity = Ed25519Identity.generate();
    const h = await hub({ admin: [adminIdentity.identifier] });
    const admin = await peer(h, adminIdentity);
    const device = await enrolled(h, admin);
    const refused = await device.subscribe();
    expect(refused).to.include({ result: 'failure', code: 'not_allowed' });
    expect(refused.snapshot).to.equal(undefined);

    const plain = fx.node();
    const reply = JSON.parse(fromUtf8((await plain.request(route(`3#127.0.0.1:${h.listener.port}`, 'hub_events'), JSON.stringify({ action: 'subscribe' }))).payload)) as Answer;
    expect(reply).to.include({ result: 'failure', code: 'not_allowed' });
    expect(h.secure!.operatorView.subscriptions.size).to.equal(0);

    // a bad request is answered, with the request_id, and changes nothing
    expect(await admin.ask('hub_events', { action: 'renew', subscription: 'nope', seq: 0, request_id: 'r9' })).to.include({ code: 'invalid_request', request_id: 'r9' });
  });

  it('reads its storage for one snapshot at a time: subscribes that come during a read share the next, which shows what happened before them', async () => {
    const admins = Array.from({ length: 3 }, () => Ed25519Identity.generate());
    const h = await hub({ admin: admins.map((a) => a.identifier) });
    const [first, second, third] = await Promise.all(admins.map((a) => peer(h, a)));
    const device = await enrolled(h, first!);
    // the first read lists storage at once, then holds its answer until released; every read is counted
    const storage = h.service.storage;
    const getAll = storage.getAll.bind(storage);
    let reads = 0;
    let release!: () => void;
    const released = new Promise<void>((resolve) => (release = resolve));
    storage.getAll = async (): Promise<LeaseRecord[]> => {
      const records = await getAll();
      if (++reads === 1) await released;
      return records;
    };
    const subscriptions = h.secure!.operatorView.subscriptions;
    const firstAnswer = first!.subscribe();
    await waitUntil('the first snapshot read', () => reads === 1);
    const later = [second!.subscribe(), third!.subscribe()];
    await waitUntil('the later subscriptions to open', () => subscriptions.size === 3);
    const lease = (await device.ask('token_lease', { action: 'create', options: {} })).lease!;
    release();

    const listed = (answer: Answer) => SnapshotSchema.parse(answer.snapshot).leases.map((l) => l.id);
    expect(listed(await firstAnswer), 'the first read listed storage before the lease').to.deep.equal([]);
    for (const answer of await Promise.all(later)) expect(listed(answer), 'the shared read began after the lease').to.deep.equal([lease.id]);
    expect(reads, 'three subscribes, two reads').to.equal(2);
    // and the first subscriber was told of the lease its snapshot missed
    await waitUntil('the first subscriber’s lease_issued', () => first!.events().some((e) => e.event === 'lease_issued' && e.lease.id === lease.id));
    storage.getAll = getAll;
  });

  it('holds at most 2 subscriptions per identity and 8 per hub, ends one whose channel closes, and finds none of another admin’s', async () => {
    const admins = Array.from({ length: 5 }, () => Ed25519Identity.generate());
    const h = await hub({ admin: admins.map((a) => a.identifier) });
    const subscriptions = h.secure!.operatorView.subscriptions;
    const peers = [];
    for (const identity of admins.slice(0, 4)) {
      const p = await peer(h, identity);
      expect((await p.subscribe()).result).to.equal('success');
      expect((await p.subscribe()).result).to.equal('success');
      peers.push(p);
    }
    expect((await peers[0]!.subscribe()).code, 'a third for one identity').to.equal('quota_exceeded');
    expect(subscriptions.size).to.equal(SUBSCRIPTION_LIMITS.perHub);
    const fifth = await peer(h, admins[4]);
    expect((await fifth.subscribe()).code, 'a ninth for the hub').to.equal('quota_exceeded');

    // a channel that closes takes its subscriptions with it: room for the fifth admin
    const closing = peers[0]!;
    const held = closing.inbox.map((t) => JSON.parse(t) as Answer).filter((a) => a.subscription !== undefined).map((a) => a.subscription!);
    closing.channel.close();
    await waitUntil('the closed channel’s subscriptions to end', () => subscriptions.size === SUBSCRIPTION_LIMITS.perHub - 2);
    expect((await fifth.subscribe()).result).to.equal('success');
    const again = await peer(h, admins[0]);
    expect((await again.ask('hub_events', { action: 'renew', subscription: held[0], seq: 0 })).code).to.equal('not_found');

    // another admin's subscription is not found either; one's own is renewed, then unsubscribed
    const mine = (await again.subscribe()).subscription!;
    expect((await peers[1]!.ask('hub_events', { action: 'renew', subscription: mine, seq: 0 })).code).to.equal('not_found');
    expect((await again.ask('hub_events', { action: 'renew', subscription: mine, seq: 0 })).result).to.equal('success');
    expect((await again.ask('hub_events', { action: 'unsubscribe', subscription: mine })).result).to.equal('success');
    expect((await again.ask('hub_events', { action: 'renew', subscription: mine, seq: 0 })).code).to.equal('not_found');
  });
});

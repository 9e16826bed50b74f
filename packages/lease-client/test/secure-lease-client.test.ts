import { expect } from 'chai';
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Clock, fromUtf8, type Logger, type Message, Node, route, silentLogger } from '@tessera/core';
import { type InfluxdbLocal, startInfluxdbLocal } from '@tessera/influxdb-local';
import { ChannelClosedError, Ed25519Identity, loadIdentity, loadOrCreateIdentity } from '@tessera/secure-channel';
import { InvalidOptionsError } from '@tessera/token-lease';
import { WebSocketTransport } from '@tessera/transport-ws';
import {
  EnrollmentRefusedError,
  HubNotTrustedError,
  HubSession,
  LeaseClient,
  type LeaseClientEvents,
  type LeaseClientOptions,
  NotEnrolledError,
} from '@tessera/lease-client';
import { fakeClock, writeWith } from '../../token-lease/test/fixtures.js';
import { type SecureHub, type SecureHubOptions, startSecureHub } from './fixtures/secure-hub.js';
import { settle, until } from './turns.js';


/** A logger that keeps every entry, at every level, as the JSON a log line would hold. */
function recordingLogger(lines: string[], bindings: object = {}): Logger {
  const at = (level: string) => (fields: object, msg: string) => void lines.push(JSON.stringify({ level, ...bindings, ...fields, msg }));
  return { debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error'), child: (more) => recordingLogger(lines, { ...bindings, ...more }) };
}

function record(client: LeaseClient) {
  const events = {
    acquired: [] as LeaseClientEvents['acquired'][],
    renewed: [] as LeaseClientEvents['renewed'][],
    failed: [] as LeaseClientEvents['failed'][],
    retrying: [] as LeaseClientEvents['retrying'][],
    channel: [] as LeaseClientEvents['channel'][],
    enrolled: [] as LeaseClientEvents['enrolled'][],
  };
  for (const name of Object.keys(events) as (keyof typeof events)[]) client.on(name, (e: unknown) => void (events[name] as unknown[]).push(e));
  return events;
}

describe('LeaseClient through a secure channel (enrollment, credentials, hub restarts)', function () {
  let influx: InfluxdbLocal;
  let dir: string;
  let hubIdentity: Ed25519Identity;
  let hubs: SecureHub[];
  const nodes: Node[] = [];
  const clients: LeaseClient[] = [];
  /** Every log line of every client, at every level. */
  let logs: string[];

  before(async () => {
    influx = await startInfluxdbLocal({ port: 0, org: 'tessera', bucket: 'tessera', token: 'operator-token-for-tests' });
  });
  after(async () => {
    await influx.close();
  });
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'tessera-secure-client-'));
    hubIdentity = Ed25519Identity.generate();
    hubs = [];
    logs = [];
  });
  afterEach(async () => {
    await Promise.allSettled(clients.splice(0).map((c) => c.stop()));
    await Promise.allSettled(nodes.splice(0).map((n) => n.stop({ timeout: 100 })));
    for (const hub of hubs.splice(0)) await hub.stop();
    await rm(dir, { recursive: true, force: true });
  });

  async function hub(options: Partial<SecureHubOptions> = {}): Promise<SecureHub> {
    const started = await startSecureHub({ influx, identity: hubIdentity, snapshotPath: join(dir, 'leases.json'), membersSnapshotPath: join(dir, 'members.json'), ...options });
    hubs.push(started);
    return started;
  }

  function deviceNode(clock?: Clock): Node {
    const node = new Node({ name: 'device', logger: silentLogger, ...(clock === undefined ? {} : { clock }) });
    new WebSocketTransport(node);
    nodes.push(node);
    return node;
  }

  function client(at: SecureHub, options: Partial<LeaseClientOptions> & { clock?: Clock }): LeaseClient {
    const c = new LeaseClient({
      node: options.node ?? deviceNode(options.clock),
      hub: route(`3#127.0.0.1:${at.port}`, 'token_lease'),
      logger: recordingLogger(logs),
      ...options,
    });
    clients.push(c);
    return c;
  }

  /** What must never be in a log line or an error: every token and credential, the identity's private key. */
  async function secretsOf(identityFile: string, tokens: string[]): Promise<string[]> {
    const file = JSON.parse(await readFile(identityFile, 'utf8')) as { private_key: string };
    return [file.private_key, ...tokens, ...hubs.flatMap((h) => h.authority.issued)];
  }

  it('enrolls on first start and leases through the channel; restarted with the same identity file and no token, it leases and renews', async () => {
    const { clock, tick } = fakeClock();
    const h = await hub({ clock, policy: { defaultTtl: 60_000 } });
    const { token } = await h.authority.createToken({ attributes: { role: 'device', bucket: 'tessera' } });
    const identityFile = join(dir, 'device.identity.json');
    const identity = await loadOrCreateIdentity(identityFile);
    expect((await stat(identityFile)).mode & 0o777).to.equal(0o600);

    const first = client(h, { identity, enrollToken: token, hubIdentifier: hubIdentity.identifier, clock, random: () => 0.5 });
    const firstEvents = record(first);
    const lease = await first.start();
    expect(firstEvents.enrolled).to.deep.equal([{ identifier: identity.identifier, attributes: { role: 'device', bucket: 'tessera' } }]);
    expect(firstEvents.channel).to.deep.equal([{ hub: hubIdentity.identifier }]);
    expect(h.authority.calls.map((c) => c.action)).to.deep.equal(['credential', 'enroll']);
    // the lease is the identity's, whichever connection asked
    expect((await h.service.list({ owner: identity.identifier, admin: false })).map((l) => l.id)).to.deep.equal([lease.id]);
    expect(await writeWith(influx, lease.value)).to.equal(204);
    // the hub's end of the channel carries the credential's attributes
    expect(h.listener.channels().map((c) => c.attributes)).to.deep.equal([{ role: 'device', bucket: 'tessera' }]);
    await first.stop();
    await until(() => h.listener.stats().channels === 0, 'the channel closed on stop (kind 1 reaches the hub)');

    // a restart: the same file, no token
    const again = client(h, { identity: await loadIdentity(identityFile), hubIdentifier: hubIdentity.identifier, clock, random: () => 0.5 });
    const events = record(again);
    const second = await again.start();
    expect(second.id).to.not.equal(lease.id);
    expect(events.enrolled).to.deep.equal([]);
    expect(h.authority.calls.map((c) => c.action)).to.deep.equal(['credential', 'enroll', 'credential']);
    tick(40_000);
    await until(() => events.renewed.length === 1, 'the renewal');
    expect(events.renewed[0]!.lease.id).to.equal(second.id);
    expect(events.failed).to.deep.equal([]);

    for (const secret of await secretsOf(identityFile, [token])) expect(logs.join('\n')).to.not.include(secret);
    expect(logs.some((l) => l.includes('"msg":"enrolled with the hub"'))).to.equal(true);
  });

  it('re-handshakes after a hub restart (same identity and storage) and renews, serving its lease meanwhile', async () => {
    const { clock, tick } = fakeClock();
    const h1 = await hub({ clock, policy: { defaultTtl: 60_000 } });
    const { token } = await h1.authority.createToken({ attributes: { role: 'device' } });
    const identity = await loadOrCreateIdentity(join(dir, 'device.json'));
    const c = client(h1, {
      identity,
      enrollToken: token,
      hubIdentifier: hubIdentity.identifier,
      ttl: 60_000,
      clock,
      random: () => 0.5,
      requestTimeout: 1_000,
      retry: { initialDelay: 200, maxDelay: 10_000, maxAttempts: 6 },
    });
    const events = record(c);
    const lease = await c.start();

    await h1.stop();
    const h2 = await hub({ clock, policy: { defaultTtl: 60_000 }, port: h1.port });
    expect(c.lease?.id, 'the lease held before the restart').to.equal(lease.id);

    tick(40_000); // the renewal point: through the old channel, whose hub end is gone
    await settle();
    tick(1_000);
    await until(() => events.retrying.length === 1, 'the renewal to time out');
    expect(events.retrying[0]).to.include({ operation: 'renew', attempt: 1, delay: 200 });
    expect(events.retrying[0]!.error.name).to.equal('TimeoutError');
    expect(c.lease?.id, 'still served while the hub is unreachable').to.equal(lease.id);
    expect(await writeWith(influx, c.token!)).to.equal(204);

    tick(200); // the next attempt opens a new channel to the new hub
    await until(() => events.renewed.length === 1, 'the renewal through a new channel');
    expect(events.renewed[0]!.lease.id).to.equal(lease.id);
    expect(events.channel.map((e) => e.hub)).to.deep.equal([hubIdentity.identifier, hubIdentity.identifier]);
    expect(h2.listener.stats().accepted).to.equal(1);
    expect(h2.authority.calls.map((call) => call.action), 'a member asks for a credential, never enrolls again').to.deep.equal(['credential']);
    expect(events.failed).to.deep.equal([]);
  });

  it('fetches a new credential at 2/3 of its life, so the channel outlives the first one', async () => {
    const { clock, tick } = fakeClock();
    const h = await hub({ clock, credentialTtl: 60_000, policy: { defaultTtl: 150_000 } });
    const { token } = await h.authority.createToken({ attributes: { role: 'device' } });
    const identity = await loadOrCreateIdentity(join(dir, 'device.json'));
    const c = client(h, { identity, enrollToken: token, ttl: 150_000, clock, random: () => 0.5 });
    const events = record(c);
    await c.start();
    const credentials = () => h.authority.calls.filter((call) => call.action === 'credential').length;
    const refreshed = () => logs.filter((l) => l.includes('"msg":"credential refreshed"')).length;
    expect(credentials()).to.equal(1);

    tick(39_999);
    await settle();
    expect(credentials()).to.equal(1);
    tick(1);
    await until(() => refreshed() === 1, 'the first refresh');
    expect(credentials()).to.equal(2);
    tick(40_000);
    await until(() => refreshed() === 2, 'the second refresh');
    expect(credentials()).to.equal(3);
    // past the first credential's expiry (60 s): the hub would drop what the channel carries, had it not been refreshed
    tick(20_000);
    await until(() => events.renewed.length === 1, 'the renewal at 100 s');
    expect(h.listener.stats().accepted, 'one channel all along').to.equal(1);
    expect(h.listener.stats().dropped.untrusted_peer).to.equal(0);
    expect(events.retrying).to.deep.equal([]);
  });

  it('waits 2/3 of a 40-day credential before it asks for the next one (a timer past 2^31 − 1 ms is taken in pieces)', async () => {
    const DAY = 86_400_000;
    const { clock, tick } = fakeClock();
    const h = await hub({ clock, issuedCredentialTtl: 40 * DAY, policy: { defaultTtl: 60 * DAY, maxTtl: 60 * DAY } });
    const { token } = await h.authority.createToken({ attributes: { role: 'device' } });
    const c = client(h, { identity: Ed25519Identity.generate(), enrollToken: token, clock, random: () => 0.5 });
    const events = record(c);
    await c.start();
    const credentials = () => h.authority.calls.filter((call) => call.action === 'credential').length;
    const refreshed = () => logs.filter((l) => l.includes('"msg":"credential refreshed"')).length;
    expect(credentials(), 'asked once (not a member yet), then enrolled').to.equal(1);
    // a plain setTimeout of 26.7 days fires after 1 ms, and again after every refresh
    for (let i = 0; i < 5; i++) {
      tick(1);
      await settle();
    }
    expect(credentials(), 'nothing asked in the first milliseconds').to.equal(1);
    const refreshAt = Math.round((40 * DAY * 2) / 3);
    tick(refreshAt - 5 - 1);
    await settle();
    expect(credentials(), 'nothing asked a millisecond before 2/3 of its life').to.equal(1);
    tick(1);
    await until(() => refreshed() === 1, 'the refresh at 2/3 of the credential');
    expect(credentials()).to.equal(2);
    await settle();
    expect(credentials(), 'one request, not a stream of them').to.equal(2);
    expect(events.failed).to.deep.equal([]);
  });

  it('refuses a hub whose identity is not the pinned one, at once and without asking it anything', async () => {
    const h = await hub();
    const { token } = await h.authority.createToken({ attributes: { role: 'device' } });
    const c = client(h, { identity: Ed25519Identity.generate(), enrollToken: token, hubIdentifier: Ed25519Identity.generate().identifier });
    const events = record(c);
    const err = await c.start().catch((e: unknown) => e);
    expect(err).to.be.instanceOf(HubNotTrustedError);
    expect(err).to.include({ code: 'HUB_NOT_TRUSTED' });
    expect((err as Error).message).to.include(hubIdentity.identifier);
    expect(events.retrying).to.deep.equal([]);
    expect(h.authority.calls).to.deep.equal([]);
    expect(h.service.stats().created).to.equal(0);
    expect(JSON.stringify(logs) + (err as Error).message).to.not.include(token);
  });

  it('trusts an unpinned hub with one warning', async () => {
    const h = await hub();
    const { token } = await h.authority.createToken({ attributes: { role: 'device' } });
    const c = client(h, { identity: Ed25519Identity.generate(), enrollToken: token });
    await c.start();
    await c.reportAuthFailure(c.lease!);
    expect(logs.filter((l) => l.includes('not pinned'))).to.have.length(1);
  });

  it('sends a refused token once and then fails every start with EnrollmentRefusedError; no token at all is NotEnrolledError', async () => {
    const h = await hub();
    const { token } = await h.authority.createToken({ attributes: { role: 'device' } });
    await client(h, { identity: Ed25519Identity.generate(), enrollToken: token }).start(); // uses it up

    const late = client(h, { identity: Ed25519Identity.generate(), enrollToken: token });
    const events = record(late);
    const err = await late.start().catch((e: unknown) => e);
    expect(err).to.be.instanceOf(EnrollmentRefusedError);
    expect(err).to.include({ code: 'ENROLLMENT_REFUSED' });
    expect(events.retrying).to.deep.equal([]);
    const enrolls = () => h.authority.calls.filter((call) => call.action === 'enroll').length;
    expect(enrolls()).to.equal(2);
    const again = await late.start().catch((e: unknown) => e);
    expect(again).to.equal(err);
    expect(enrolls(), 'the token is not sent again').to.equal(2);

    const stranger = client(h, { identity: Ed25519Identity.generate() });
    const notMember = await stranger.start().catch((e: unknown) => e);
    expect(notMember).to.be.instanceOf(NotEnrolledError);
    expect(notMember).to.include({ code: 'NOT_ENROLLED' });
    expect((notMember as Error).message).to.match(/enroll it once with a bootstrap token/);
    for (const e of [err, notMember]) expect((e as Error).message).to.not.include(token);
    expect(logs.join('\n')).to.not.include(token);
  });

  it('fails the requests in flight at once when the hub closes the channel (retryable ChannelClosedError), and the next request opens a new one', async () => {
    const h = await hub();
    const heard: Message[] = [];
    await h.node.startWorker('silent', (_ctx, msg) => void heard.push(msg)); // takes requests, never answers
    const { token } = await h.authority.createToken({ attributes: { role: 'device' } });
    // the device's clock never moves: only the close can end its requests
    const session = new HubSession({ node: deviceNode(fakeClock().clock), hub: route(`3#127.0.0.1:${h.port}`, 'token_lease'), identity: Ed25519Identity.generate(), enrollToken: token, hubIdentifier: hubIdentity.identifier });
    const asked = [session.request('silent', 'one'), session.request('silent', 'two')].map((p) => p.then(() => undefined, (err: unknown) => err));
    await until(() => heard.length === 2, 'both requests to reach the hub');
    expect(h.listener.stats().channels).to.equal(1);
    h.listener.channels()[0]!.close();

    for (const err of await Promise.all(asked)) {
      expect(err).to.be.instanceOf(ChannelClosedError);
      expect(err).to.include({ code: 'CHANNEL_CLOSED' });
    }
    const answer = JSON.parse(fromUtf8((await session.request('token_lease', JSON.stringify({ action: 'create', options: {} }))).payload)) as { result: string };
    expect(answer.result).to.equal('success');
    expect(h.listener.stats()).to.include({ accepted: 2, channels: 1 });
    session.close();
  });

  it('refuses an enroll token or a hub identifier without an identity, never quoting the token', () => {
    const node = deviceNode();
    const secret = 'x'.repeat(43);
    for (const options of [{ enrollToken: secret }, { hubIdentifier: hubIdentity.identifier }, { secure: true }]) {
      expect(() => new LeaseClient({ node, hub: route('token_lease'), ...options }))
        .to.throw(InvalidOptionsError)
        .with.property('message')
        .that.does.not.include(secret);
    }
    expect(() => new LeaseClient({ node, hub: route('token_lease'), identity: Ed25519Identity.generate(), hubIdentifier: 'hub-1' })).to.throw(InvalidOptionsError, /hubIdentifier/);
    expect(() => new LeaseClient({ node, hub: route('token_lease'), identity: Ed25519Identity.generate(), enrollToken: '' })).to.throw(InvalidOptionsError, /enrollToken/);
  });
});

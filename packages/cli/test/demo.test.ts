import { expect } from 'chai';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DemoOperator } from '../src/demo/operator.js';

const root = fileURLToPath(new URL('../../../', import.meta.url));

describe('npm start (the demo)', function () {
  this.timeout(180_000);

  let scratch: string;
  beforeEach(async () => {
    // the demo's TMPDIR: whatever it writes there (the hub's identity) must be gone when it ends
    scratch = await mkdtemp(join(tmpdir(), 'tessera-demo-test-'));
  });
  afterEach(async () => {
    await rm(scratch, { recursive: true, force: true });
  });

  it('`npm start -- --duration 20`: devices enroll and lease through secure channels; a device meets a 401 (lease revoked from outside by an admin) and another a 403 (token deactivated), each recovers; no point lost, no secret shown, no file left', async () => {
    const child = spawn('npm', ['start', '--silent', '--', '--duration', '20'], { cwd: root, env: { ...process.env, CI: 'true', TMPDIR: scratch } });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    const [code] = (await once(child, 'close')) as [number];
    expect(code, err + out).to.equal(0);
    expect(await readdir(scratch), 'files the demo left in its TMPDIR').to.deep.equal([]);

    // a secure hub: each device its own identity, enrolled once with a bootstrap token (only its reference shown), its requests through a channel
    const id = 'I[0-9a-f]{7}…';
    const hubId = new RegExp(`^hub \\S+ \\(identity (${id}), secure`, 'm').exec(out)?.[1];
    expect(hubId, out).to.be.a('string');
    expect(out).to.match(/demo\s+a lease request sent without a secure channel is refused: not_allowed/);
    for (const n of [1, 2, 3]) {
      expect(out).to.match(new RegExp(`hub\\s+bootstrap token [0-9a-f]{12} made for device-${n} \\(role=device, one use\\)`));
      expect(out).to.match(new RegExp(`device-${n}\\s+enrolled as ${id} \\(role=device( relay=device-1)?\\)`));
      expect(out).to.include(`device-${n}  secure channel open to hub ${hubId}: every lease request goes through it`);
    }
    const enrolled = [...out.matchAll(new RegExp(`device-(\\d)\\s+enrolled as (${id})`, 'g'))].map((m) => [m[1], m[2]]);
    expect(new Set(enrolled.map(([, identifier]) => identifier)).size, 'an identity of its own each').to.equal(3);
    // every lease issued belongs to the identity its device enrolled as
    const issued = [...out.matchAll(new RegExp(`hub\\s+lease \\S+ issued to device-(\\d) \\((${id})\\)`, 'g'))];
    expect(issued.length).to.be.at.least(3);
    for (const m of issued) expect(enrolled, m[0]).to.deep.include([m[1], m[2]]);
    expect(out).to.match(new RegExp(`operator\\s+secure channel open to hub ${hubId} as ${id}, an admin in the hub's settings`));
    expect(out).to.match(new RegExp(`operator\\s+lists the hub's members: device-1 ${id}, device-2 ${id}, device-3 ${id} \\(role device\\)`));
    // device-1 accepts no connection: the operator reaches its status worker through the relay it keeps at the hub
    expect(out).to.match(/device-1\s+keeps a relay at the hub: forward_to_device-1/);
    expect(out).to.match(/operator\s+reached device-1's status worker through its relay: "device-1: \d+ points written, 0 lost"/);
    // not a terminal: a timeline, then the summary
    expect(out).to.match(/hub\s+lease \S+ issued/);
    expect(out).to.match(/operator\s+revokes device-\d's lease \S+ from outside/);
    expect(out).to.match(/operator\s+deactivates device-\d's token \S+ in InfluxDB/);
    expect(out).to.match(/device-\d\s+InfluxDB answered 401 to lease/);
    expect(out).to.match(/device-\d\s+InfluxDB answered 403 to lease/);
    expect(out).to.match(/token swapped/);
    // the mission shows early: each within the demo's first 10 s (the timeline's own clock)
    const firstAt = (pattern: RegExp) => Number(new RegExp(`^\\s*([\\d.]+)s\\s+device-\\d\\s+${pattern.source}`, 'm').exec(out)?.[1] ?? NaN);
    expect(firstAt(/InfluxDB answered 401/), out).to.be.below(10);
    expect(firstAt(/InfluxDB answered 403/), out).to.be.below(10);
    const summary = out.slice(out.indexOf('demo summary'));
    const number = (pattern: RegExp) => Number(pattern.exec(summary)?.[1] ?? NaN);
    expect(number(/401 met: (\d+)/), summary).to.be.at.least(1);
    expect(number(/403 met: (\d+)/), summary).to.be.at.least(1);
    expect(number(/points written:\s+(\d+)/)).to.be.greaterThan(0);
    expect(number(/points in InfluxDB:\s+(\d+)/)).to.equal(number(/points written:\s+(\d+)/));
    expect(number(/points lost:\s+(\d+)/)).to.equal(0);
    expect(number(/devices enrolled:\s+(\d+)/)).to.equal(3);
    expect(number(/secure channels:\s+(\d+) opened/), 'one per device and the operator’s').to.be.at.least(4);
    expect(summary).to.match(/without: not_allowed/);
    // no secret: InfluxDB tokens (88 characters), bootstrap tokens (43), private keys (43), credentials (JWS) are
    // long runs of base64 or base64url characters; the screen shows only short forms and references
    // …but for the web console's one-time login link, printed for the operator on purpose (it logs one browser in)
    expect(out).to.match(/operator's web console http:\/\/127\.0\.0\.1:\d+\/: log in once with http:\/\/127\.0\.0\.1:\d+\/login\?token=[A-Za-z0-9_-]{43}\b/);
    const text = (out + err).replace(/\/login\?token=[A-Za-z0-9_-]{43}\b/g, '/login?token=(the link)');
    expect(text).to.not.match(/[A-Za-z0-9+/_=-]{40,}/);
    expect(text).to.not.match(/eyJ[A-Za-z0-9_-]+\./);
    expect(text).to.not.include('private_key');
  });
});

describe('the demo operator', () => {
  // times in ms on a made-up clock: every call passes its own `now`
  const lease = (id: string, expiresAt: number) => ({ id, expires: new Date(expiresAt).toISOString() });
  function operator() {
    const acts: string[] = [];
    const shown: string[] = [];
    const op = new DemoOperator(
      {
        interval: 1_000,
        ttl: 6_000,
        revoke: async (id) => void acts.push(`revoke ${id}`),
        deactivate: async (id) => void acts.push(`deactivate ${id}`),
        show: (text) => shown.push(text),
      },
      () => 2,
    );
    return { op, acts, shown };
  }

  it('acts right after a write, only while the next write comes before any renewal, one act at a time, on another device each time', () => {
    const { op, acts } = operator();
    op.leaseHeld('d1', lease('L1', 6_000), 0);
    op.leaseHeld('d2', lease('L2', 6_500), 500);
    op.plan('revoke');
    op.plan('deactivate');
    op.written('d1', 'L1', 2_200); // renewal may come from 3.6 s: the next write (3.2 s) with 1.5 intervals to spare is too close
    expect(acts).to.deep.equal([]);
    op.written('d2', 'L2', 1_500);
    expect(acts).to.deep.equal(['revoke L2']);
    op.written('d1', 'L1', 1_600); // still waiting for d2 to meet the revoke
    expect(acts).to.deep.equal(['revoke L2']);
    op.authFailure('L2');
    op.written('d2', 'L3', 2_600); // d2 again: the next act goes to another device
    op.written('d1', 'L1', 2_700); // d1's lease was got at 0: too late now
    op.leaseHeld('d1', lease('L1', 8_800), 2_800); // renewed
    op.written('d1', 'L1', 3_700);
    expect(acts).to.deep.equal(['revoke L2', 'deactivate L1']);
  });

  it('acts again, after the other act waiting, when the device writes with a new lease before any write met the act', () => {
    const { op, acts, shown } = operator();
    op.leaseHeld('d1', lease('L1', 6_000), 0);
    op.leaseHeld('d2', lease('L2', 6_500), 500);
    op.plan('revoke');
    op.plan('deactivate');
    op.written('d1', 'L1', 1_000);
    expect(acts).to.deep.equal(['revoke L1']);
    op.leaseHeld('d1', lease('L9', 8_000), 2_000); // a renewal found L1 revoked and replaced it
    expect(shown).to.have.length(1); // not yet a miss: a write with L1 may be in flight, and meet the 401
    op.written('d1', 'L9', 2_100); // a write went through with L9: nothing will write with L1 again
    expect(shown.at(-1)).to.match(/d1 replaced lease L1 before a write met it/);
    op.written('d2', 'L2', 2_200);
    op.authFailure('L2');
    op.written('d1', 'L9', 3_000);
    expect(acts).to.deep.equal(['revoke L1', 'deactivate L2', 'revoke L9']);
  });
});

import { expect } from 'chai';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { DemoOperator } from '../src/demo/operator.js';

const root = fileURLToPath(new URL('../../../', import.meta.url));

describe('npm start (the demo)', function () {
  this.timeout(180_000);

  it('`npm start -- --duration 20`: a device meets a 401 (lease revoked from outside) and another a 403 (token deactivated), each recovers; no point lost', async () => {
    const child = spawn('npm', ['start', '--silent', '--', '--duration', '20'], { cwd: root, env: { ...process.env, CI: 'true' } });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    const [code] = (await once(child, 'close')) as [number];
    expect(code, err + out).to.equal(0);
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
    expect(out).to.not.match(/[A-Za-z0-9_-]{86}==/); // no token printed
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

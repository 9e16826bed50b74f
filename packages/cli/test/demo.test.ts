import { expect } from 'chai';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../../../', import.meta.url));

describe('npm start (the demo)', function () {
  this.timeout(120_000);

  it('`npm start -- --duration 15` runs to completion: leases issued, renewed, revoked; a revoke from outside met and survived; no point lost', async () => {
    const child = spawn('npm', ['start', '--silent', '--', '--duration', '15', '--revoke-every', '5'], { cwd: root, env: { ...process.env, CI: 'true' } });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    const [code] = (await once(child, 'exit')) as [number];
    expect(code, err + out).to.equal(0);
    // not a terminal: a timeline, then the summary
    expect(out).to.match(/hub\s+lease \S+ issued/);
    expect(out).to.match(/renewed/);
    expect(out).to.match(/operator\s+revokes device-\d's lease/);
    expect(out).to.match(/device-\d\s+InfluxDB answered 40[13]/);
    expect(out).to.match(/token swapped/);
    const number = (label: string) => Number(new RegExp(`${label}:\\s+(\\d+)`).exec(out)?.[1] ?? NaN);
    expect(number('leases issued')).to.be.greaterThan(3);
    expect(number('leases revoked')).to.be.greaterThan(0);
    expect(number('points written')).to.be.greaterThan(30);
    expect(number('points in InfluxDB')).to.equal(number('points written'));
    expect(number('points lost')).to.equal(0);
    expect(out).to.not.match(/[A-Za-z0-9_-]{86}==/); // no token printed
  });
});

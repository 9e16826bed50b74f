import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { expect } from 'chai';
import { type HubFixture, startHub } from '../../../packages/token-lease/test/fixtures.js';
import { runDeviceCli } from '../src/index.js';
import { capture, oneTo, seqsOf, waitFor } from './helpers.js';

const ADMIN = { owner: 'test', admin: true };
const BIN = fileURLToPath(new URL('../dist/bin.js', import.meta.url));


describe('tessera-device command line', function () {
  let fx: HubFixture;

  beforeEach(async function () {
    fx = await startHub();
  });

  afterEach(async function () {
    await fx.close();
  });

  it('prints a line per event, survives a revoke, and stops cleanly on abort without printing a token', async function () {
    const stdout = capture();
    const stderr = capture();
    const abort = new AbortController();
    const tokens = new Set<string>();
    fx.service.on('created', () => void fx.service.list(ADMIN).then((leases) => leases.forEach((l) => tokens.add(l.value))));
    const argv = ['--insecure', '--hub', `ws://127.0.0.1:${fx.port}`, '--influx-url', fx.influx.url, '--device-id', 'cli-1', '--interval', '20', '--ttl', '60000', '--log-level', 'debug'];
    const exit = runDeviceCli(argv, { stdout, stderr, env: {}, signal: abort.signal });

    const points = () => stdout.lines().filter((l) => l.startsWith('point ')).length;
    await waitFor('three points', () => points() >= 3);
    const [lease] = await fx.service.list(ADMIN);
    await fx.service.revoke(ADMIN, lease!.id);
    await waitFor('the token swap and a point after it', () => stdout.text.includes('token swapped') && /token swapped[^]*\npoint /.test(stdout.text));
    abort.abort();
    expect(await exit).to.equal(0);

    const lines = stdout.lines();
    expect(lines[0]).to.match(/^device cli-1: hub 3#ws:\/\/127\.0\.0\.1:\d+ => 0#token_lease, influx http:\/\/127\.0\.0\.1:\d+ org=tessera bucket=tessera, every 20 ms$/);
    expect(lines[1]).to.match(new RegExp(`^lease ${lease!.id} acquired \\(start\\), expires `));
    const authLine = new RegExp(`^auth failure: InfluxDB answered 401 to lease ${lease!.id}; reporting it, \\d+ point\\(s\\) to replay$`);
    expect(lines.filter((l) => authLine.test(l))).to.have.length(1);
    expect(lines.some((l) => /^point seq=\d+ value=[\d.]+ lease=[0-9a-f]{16} \(replayed\)$/.test(l))).to.equal(true);
    expect(lines).to.include('abort: stopping');
    const summary = lines[lines.length - 1]!;
    expect(summary).to.match(/^stopped: written=(\d+) failed=0 lost=0 auth-failures=1 leases=2$/);
    const written = Number(/written=(\d+)/.exec(summary)![1]);
    expect(seqsOf(fx.influx, 'cli-1')).to.deep.equal(oneTo(written));
    expect(tokens.size).to.equal(2);
    expect(stderr.text).to.include('"msg":"token refused; reporting its lease"');
    for (const token of tokens) expect(stdout.text + stderr.text).to.not.include(token);
    expect(await fx.service.list(ADMIN)).to.deep.equal([]);
  });

  for (const [argv, says] of [
    [['--hub', 'ws://127.0.0.1:4000'], '--influx-url (or INFLUX_URL) is required'],
    [['--insecure', '--influx-url', 'http://127.0.0.1:8086', '--interval', 'soon'], '--interval must be a positive whole number'],
    [['--insecure', '--influx-url', 'http://127.0.0.1:8086', '--hub', 'http://hub'], 'hub'],
    [['--insecure', '--influx-url', 'http://127.0.0.1:8086', '--log-level', 'loud'], '--log-level must be one of'],
    [['--influx-url', 'http://127.0.0.1:8086', '--bogus'], "Unknown option '--bogus'"],
    [['--influx-url', 'http://127.0.0.1:8086'], '--identity FILE (or TESSERA_IDENTITY) is required for a secure hub'],
    [['--influx-url', 'http://127.0.0.1:8086', '--insecure', '--identity', 'x.json'], '--insecure is plaintext'],
    [['--influx-url', 'http://127.0.0.1:8086', '--identity', 'x.json', '--hub-identity', 'hub-1'], '--hub-identity (or TESSERA_HUB_IDENTITY) must be an identifier'],
  ] as const) {
    it(`exits 2 with usage for ${argv.join(' ')}`, async function () {
      const stdout = capture();
      const stderr = capture();
      expect(await runDeviceCli(argv, { stdout, stderr, env: {} })).to.equal(2);
      expect(stderr.text).to.include(says).and.to.include('Usage: tessera-device');
      expect(stdout.text).to.equal('');
    });
  }

  it('takes INFLUX_URL, INFLUX_ORG and INFLUX_BUCKET from the environment', async function () {
    const stdout = capture();
    const abort = new AbortController();
    const env = { INFLUX_URL: fx.influx.url, INFLUX_ORG: 'tessera', INFLUX_BUCKET: 'tessera', TESSERA_HUB: `127.0.0.1:${fx.port}`, TESSERA_DEVICE_ID: 'env-1' };
    const exit = runDeviceCli(['--interval', '20', '--insecure'], { stdout, stderr: capture(), env, signal: abort.signal });
    await waitFor('a point', () => fx.influx.countPoints({ tags: { device: 'env-1' } }) >= 1);
    abort.abort();
    expect(await exit).to.equal(0);
    expect(stdout.text).to.include(`influx ${fx.influx.url} org=tessera bucket=tessera`);
  });

  it('prints help', async function () {
    const stdout = capture();
    expect(await runDeviceCli(['--help'], { stdout, stderr: capture(), env: {} })).to.equal(0);
    expect(stdout.text).to.include('Usage: tessera-device').and.to.include('--influx-url');
  });

  it('runs as a program and stops cleanly on SIGTERM', async function () {
    const child = spawn(process.execPath, [BIN, '--insecure', '--hub', `ws://127.0.0.1:${fx.port}`, '--influx-url', fx.influx.url, '--device-id', 'bin-1', '--interval', '20'], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout.on('data', (c: Buffer) => (out += c.toString()));
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    await waitFor('a point from the program', () => out.includes('point seq=2'));
    child.kill('SIGTERM');
    expect(await exited).to.equal(0);
    expect(out).to.include('SIGTERM: stopping').and.to.match(/stopped: written=\d+ failed=0 lost=0/);
    expect(await fx.service.list(ADMIN)).to.deep.equal([]);
  });
});

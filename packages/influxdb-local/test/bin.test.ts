import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect } from 'chai';
import { runInfluxdbLocalCli } from '../src/index.js';
import { apis, raw, write } from './helpers.js';

const packageDir = fileURLToPath(new URL('..', import.meta.url));

/** Collects what is written, and resolves `waitFor(re)` once it appears. */
function sink() {
  let text = '';
  const waiters: Array<{ re: RegExp; resolve: (m: RegExpMatchArray) => void }> = [];
  return {
    get text() {
      return text;
    },
    write(chunk: string | Buffer) {
      text += chunk.toString();
      for (const w of [...waiters]) {
        const m = text.match(w.re);
        if (m !== null) {
          waiters.splice(waiters.indexOf(w), 1);
          w.resolve(m);
        }
      }
      return true;
    },
    waitFor(re: RegExp): Promise<RegExpMatchArray> {
      const m = text.match(re);
      return m !== null ? Promise.resolve(m) : new Promise((resolve) => waiters.push({ re, resolve }));
    },
  };
}

const exited = (child: ChildProcess) =>
  new Promise<number | null>((resolve) => (child.exitCode !== null ? resolve(child.exitCode) : child.once('exit', (code) => resolve(code))));

describe('influxdb-local: the tessera-influxdb-local command', function () {
  this.timeout(20_000);

  it('runs as a process: prints its URL, serves, and stops cleanly on SIGTERM', async () => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/bin.ts', '--port', '0', '--org', 'cli-org', '--bucket', 'cli-bucket'], {
      cwd: packageDir,
      env: { ...process.env, INFLUX_TOKEN: 'cli-secret-token' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const out = sink();
    const err = sink();
    child.stdout!.on('data', (c: Buffer) => out.write(c));
    child.stderr!.on('data', (c: Buffer) => err.write(c));
    try {
      const [, url] = await Promise.race([out.waitFor(/listening on (http:\/\/\S+)/), exited(child).then(() => expect.fail(`exited early: ${err.text}`))]);
      expect(out.text).to.match(/org: +cli-org \(id [0-9a-f]{16}\)/);
      expect(out.text).to.match(/bucket: +cli-bucket \(id [0-9a-f]{16}\)/);
      expect(out.text).to.include('from INFLUX_TOKEN');
      expect(out.text).to.not.include('cli-secret-token');
      expect((await raw(url!, 'GET', '/ping')).status).to.equal(204);
      await write({ url: url! }, 'cli-secret-token', ['m v=1'], { org: 'cli-org', bucket: 'cli-bucket' });
      child.kill('SIGTERM');
      expect(await exited(child)).to.equal(0);
      expect(out.text).to.include('stopped');
    } finally {
      child.kill('SIGKILL');
    }
  });

  it('prints a generated token once, and never a given one', async () => {
    const stop = new AbortController();
    const out = sink();
    const done = runInfluxdbLocalCli(['--port', '0'], { stdout: out, stderr: out, env: {}, signal: stop.signal });
    const [, url] = await out.waitFor(/listening on (http:\/\/\S+)/);
    const [, token] = await out.waitFor(/token: +(\S{88})\n/);
    expect(out.text).to.include('generated at start');
    expect((await apis({ url: url! }, token!).orgs.getOrgs()).orgs).to.have.length(1);
    stop.abort();
    expect(await done).to.equal(0);

    const quiet = sink();
    const given = new AbortController();
    const run = runInfluxdbLocalCli(['--port', '0', '--token', 'flag-secret'], { stdout: quiet, stderr: quiet, env: {}, signal: given.signal });
    await quiet.waitFor(/listening on/);
    given.abort();
    expect(await run).to.equal(0);
    expect(quiet.text).to.include('given with --token').and.not.include('flag-secret');
  });

  it('keeps state in --persist FILE and says the token is the saved one', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'influxdb-local-cli-'));
    try {
      const file = join(dir, 'state.json');
      for (const expected of ['(new)', '(loaded)']) {
        const out = sink();
        const stop = new AbortController();
        const run = runInfluxdbLocalCli(['--port', '0', '--persist', file], { stdout: out, stderr: out, env: {}, signal: stop.signal });
        await out.waitFor(/listening on/);
        expect(out.text).to.include(expected);
        if (expected === '(loaded)') expect(out.text).to.include(`the operator token saved in ${file}`);
        stop.abort();
        expect(await run).to.equal(0);
      }
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('with --access-log prints one JSON line per request answered (method, path, status), never a token or a query string', async () => {
    const stop = new AbortController();
    const out = sink();
    const run = runInfluxdbLocalCli(['--port', '0', '--access-log'], { stdout: out, stderr: out, env: { INFLUX_TOKEN: 'access-log-operator-token' }, signal: stop.signal });
    const [, url] = await out.waitFor(/listening on (http:\/\/\S+)/);
    const { auths, orgs } = apis({ url: url! }, 'access-log-operator-token');
    const orgID = (await orgs.getOrgs()).orgs![0]!.id!;
    const created = await auths.postAuthorizations({ body: { orgID, permissions: [{ action: 'write', resource: { type: 'buckets', orgID } }] } });
    await auths.deleteAuthorizationsID({ authID: created.id! });
    expect((await raw(url!, 'DELETE', `/api/v2/authorizations/${created.id!}`, { authorization: 'Token access-log-operator-token' })).status).to.equal(404);
    expect((await raw(url!, 'GET', '/api/v2/buckets?name=kept-out-of-the-log', { authorization: 'Token access-log-operator-token' })).status).to.equal(200);
    await out.waitFor(/"path":"\/api\/v2\/buckets"/);
    stop.abort();
    expect(await run).to.equal(0);
    const lines = out.text
      .split('\n')
      .filter((l) => l.startsWith('{'))
      .map((l) => JSON.parse(l) as { method: string; path: string; status: number; ms: number });
    expect(lines.map((l) => `${l.method} ${l.path} ${l.status}`)).to.deep.equal([
      'GET /api/v2/orgs 200',
      'POST /api/v2/authorizations 201',
      `DELETE /api/v2/authorizations/${created.id!} 204`,
      `DELETE /api/v2/authorizations/${created.id!} 404`,
      'GET /api/v2/buckets 200',
    ]);
    expect(lines.every((l) => l.ms >= 0)).to.equal(true);
    expect(out.text).to.not.include('access-log-operator-token').and.not.include(created.token!).and.not.include('kept-out-of-the-log');
  });

  it('exits 2 with usage on bad arguments, 0 on --help, 1 when it cannot start', async () => {
    const out = sink();
    expect(await runInfluxdbLocalCli(['--port', 'eighty'], { stdout: out, stderr: out, env: {} })).to.equal(2);
    expect(await runInfluxdbLocalCli(['--nope'], { stdout: out, stderr: out, env: {} })).to.equal(2);
    expect(out.text).to.include('Usage: tessera-influxdb-local');
    expect(await runInfluxdbLocalCli(['--help'], { stdout: out, stderr: out, env: {} })).to.equal(0);
    expect(await runInfluxdbLocalCli(['--port', '0', '--bucket', '_x'], { stdout: out, stderr: out, env: {} })).to.equal(1);
    expect(out.text).to.include('cannot start');
  });
});

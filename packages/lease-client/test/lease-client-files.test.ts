import { expect } from 'chai';
import { randomBytes } from 'node:crypto';
import { mkdtemp, open, readdir, readFile, rm, stat, truncate, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Node, route, type Route, silentLogger } from '@tessera/core';
import { InvalidOptionsError } from '@tessera/token-lease';
import { LeaseClient, type LeaseClientEvents, type LeaseClientOptions } from '@tessera/lease-client';
import { WebSocketTransport } from '@tessera/transport-ws';
import { TokenSink } from '../src/token-sink.js';
import { type HubFixture, startHub, writeWith } from '../../token-lease/test/fixtures.js';

const mode = async (path: string) => (await stat(path)).mode & 0o777;

describe('LeaseClient files: the encrypted lease cache and the token sink', () => {
  let fx: HubFixture | undefined;
  let dir: string;
  const running: { stop(): Promise<void> }[] = [];

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'tessera-lease-client-'));
  });
  afterEach(async () => {
    for (const r of running.splice(0).reverse()) await r.stop().catch(() => undefined);
    await fx?.close();
    fx = undefined;
    await rm(dir, { recursive: true, force: true });
  });

  /** A client on a node of its own (a restarted device has a new connection). */
  function client(options: Partial<LeaseClientOptions> & { hub?: Route } = {}) {
    const node = new Node({ name: 'device', logger: silentLogger });
    new WebSocketTransport(node);
    running.push(node);
    const c = new LeaseClient({ node, hub: route(`3#127.0.0.1:${fx!.port}`, 'token_lease'), logger: silentLogger, ...options });
    running.push(c);
    const acquired: LeaseClientEvents['acquired'][] = [];
    c.on('acquired', (e) => acquired.push(e));
    return { c, acquired };
  }

  describe('cache', () => {
    it('lets a restarted client reuse its unexpired lease without a create; file and key are 0600 and hold no plain token', async () => {
      fx = await startHub();
      const cache = { path: join(dir, 'lease.bin'), keyFile: join(dir, 'lease.key') };
      const first = client({ cache });
      const lease = await first.c.start();
      await first.c.stop();
      expect(first.acquired.map((e) => e.reason)).to.deep.equal(['start']);
      expect(await mode(cache.path)).to.equal(0o600);
      expect(await mode(cache.keyFile)).to.equal(0o600);
      expect(await readFile(cache.keyFile, 'utf8')).to.match(/^[0-9a-f]{64}\n$/);
      const bytes = await readFile(cache.path);
      expect(bytes.includes(Buffer.from(lease.value))).to.equal(false);
      expect(bytes.includes(Buffer.from(lease.id))).to.equal(false);

      const created = fx.service.stats().created;
      const second = client({ cache });
      expect(await second.c.start()).to.deep.equal(lease);
      expect(second.acquired.map((e) => e.reason)).to.deep.equal(['cache']);
      expect(fx.service.stats().created).to.equal(created);
      expect(await writeWith(fx.influx, second.c.token!)).to.equal(204);
    });

    it('accepts the key as hex or base64; a key of the wrong size is refused at construction', async () => {
      fx = await startHub();
      const key = randomBytes(32);
      const path = join(dir, 'lease.bin');
      const first = client({ cache: { path, key: key.toString('hex') } });
      const lease = await first.c.start();
      await first.c.stop();
      const second = client({ cache: { path, key: key.toString('base64') } });
      expect((await second.c.start()).id).to.equal(lease.id);
      expect(second.acquired[0]!.reason).to.equal('cache');
      expect(() => client({ cache: { path, key: randomBytes(16).toString('hex') } })).to.throw(InvalidOptionsError, /cache.key must be 32 bytes/);
      expect(() => client({ cache: { path } })).to.throw(InvalidOptionsError, /exactly one of key and keyFile/);
    });

    for (const [what, spoil] of [
      ['a tampered file', async (path: string) => {
        const bytes = await readFile(path);
        bytes[Math.floor(bytes.length / 2)]! ^= 0x01;
        await writeFile(path, bytes);
      }],
      ['a truncated file', async (path: string) => truncate(path, Math.floor((await stat(path)).size / 2))],
      ['an empty file', async (path: string) => writeFile(path, '')],
      ['a file that is not a cache', async (path: string) => writeFile(path, '{"lease": "not encrypted"}')],
    ] as const) {
      it(`ignores ${what} and gets a new lease (then caches that one)`, async () => {
        fx = await startHub();
        const cache = { path: join(dir, 'lease.bin'), keyFile: join(dir, 'lease.key') };
        const first = client({ cache });
        const old = await first.c.start();
        await first.c.stop();
        await spoil(cache.path);

        const created = fx.service.stats().created;
        const second = client({ cache });
        const fresh = await second.c.start();
        expect(fresh.id).to.not.equal(old.id);
        expect(second.acquired.map((e) => e.reason)).to.deep.equal(['start']);
        expect(fx.service.stats().created).to.equal(created + 1);
        await second.c.stop();

        const third = client({ cache });
        expect((await third.c.start()).id).to.equal(fresh.id);
        expect(third.acquired[0]!.reason).to.equal('cache');
      });
    }

    it('ignores a cache written with another key, or for another hub', async () => {
      fx = await startHub();
      const path = join(dir, 'lease.bin');
      const first = client({ cache: { path, key: randomBytes(32).toString('hex') } });
      const old = await first.c.start();
      await first.c.stop();

      const otherKey = client({ cache: { path, key: randomBytes(32).toString('hex') } });
      const fresh = await otherKey.c.start();
      expect(fresh.id).to.not.equal(old.id);
      expect(otherKey.acquired[0]!.reason).to.equal('start');
      await otherKey.c.stop();

      const keyFile = join(dir, 'k');
      const a = client({ cache: { path, keyFile } });
      const viaIp = await a.c.start();
      await a.c.stop();
      const otherHub = client({ cache: { path, keyFile }, hub: route(`3#localhost:${fx!.port}`, 'token_lease') });
      expect((await otherHub.c.start()).id).to.not.equal(viaIp.id);
      expect(otherHub.acquired[0]!.reason).to.equal('start');
    });

    it('ignores an expired cached lease', async () => {
      fx = await startHub({ policy: { minTtl: 1_000 } });
      let now = Date.now();
      const clock = { now: () => now, setTimeout: () => 0, clearTimeout: () => undefined };
      const cache = { path: join(dir, 'lease.bin'), keyFile: join(dir, 'lease.key') };
      const first = client({ cache, ttl: 5_000, clock });
      const old = await first.c.start();
      await first.c.stop();
      now += 5_000;
      const second = client({ cache, clock });
      expect((await second.c.start()).id).to.not.equal(old.id);
      expect(second.acquired[0]!.reason).to.equal('start');
    });

    it('forgets the cached lease when stop revokes it', async () => {
      fx = await startHub();
      const cache = { path: join(dir, 'lease.bin'), keyFile: join(dir, 'lease.key') };
      const first = client({ cache });
      await first.c.start();
      await first.c.stop({ revoke: true });
      expect(await readdir(dir)).to.deep.equal(['lease.key']);
    });
  });

  describe('token sink', () => {
    it('holds the current token and a newline, mode 0600, replaced atomically on every change', async () => {
      fx = await startHub();
      const sink = join(dir, 'token');
      const { c } = client({ sink });
      const first = await c.start();
      expect(await readFile(sink, 'utf8')).to.equal(`${first.value}\n`);
      expect(await mode(sink)).to.equal(0o600);
      const before = await open(sink, 'r'); // a rename leaves this handle on the old file; a rewrite in place would not

      // a reader polling the file while the token changes sees one whole token or the next, never a part
      const seen = new Set<string>();
      let reading = true;
      const reader = (async () => {
        while (reading) seen.add(await readFile(sink, 'utf8'));
      })();
      const tokens = [first.value];
      for (let i = 0; i < 10; i++) tokens.push((await c.reportAuthFailure(c.lease!)).value);
      reading = false;
      await reader;

      const last = tokens[tokens.length - 1]!;
      expect(await readFile(sink, 'utf8')).to.equal(`${last}\n`);
      expect(await before.readFile('utf8')).to.equal(`${first.value}\n`);
      await before.close();
      expect(await mode(sink)).to.equal(0o600);
      const whole = new Set(tokens.map((t) => `${t}\n`));
      for (const content of seen) expect(whole.has(content), 'a partial token was read').to.equal(true);
      expect(await readdir(dir)).to.deep.equal(['token']);
      expect(await writeWith(fx.influx, (await readFile(sink, 'utf8')).trim())).to.equal(204);
    });

    it('keeps the last of a burst of writes, and leaves no temporary files', async () => {
      const path = join(dir, 'token');
      const sink = new TokenSink(path);
      await Promise.all(Array.from({ length: 50 }, (_, i) => sink.write(`token-${i}`)));
      expect(await readFile(path, 'utf8')).to.equal('token-49\n');
      expect(await readdir(dir)).to.deep.equal(['token']);
    });
  });
});

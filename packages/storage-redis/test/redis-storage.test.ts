import { expect } from 'chai';
import { Redis } from 'ioredis';
import { redisStorage, type RedisStorage, type RedisStorageOptions } from '@tessera/storage-redis';
import { leaseRecord, rejection, startRedisServer, storageServiceSuite, type RedisServer } from '@tessera/testing';
import type { StorageNamespace } from '@tessera/token-lease';

const T0 = Date.parse('2030-01-01T00:00:00.000Z');
const MINUTE = 60_000;
const NS: StorageNamespace = { cloudService: 'influxdb-v2', cloudServiceAddress: 'http://127.0.0.1:8086 org=tessera' };
/** Quick reconnects so failure tests stay quick; a command timeout a busy machine does not reach (tests of it set their own). */
const QUICK = { connectTimeoutMs: 2000, commandTimeoutMs: 10_000, reconnect: { minDelayMs: 20, maxDelayMs: 200 } };

storageServiceSuite('redis', async () => {
  const server = await startRedisServer();
  return { create: () => redisStorage({ url: server.url }), shared: true, teardown: () => server.stop() };
});

storageServiceSuite('redis (one-node Cluster)', async () => {
  const server = await startRedisServer({ cluster: true });
  return {
    create: () => redisStorage({ cluster: { nodes: [{ host: server.host, port: server.port }] } }),
    shared: true,
    bulk: 2000,
    teardown: () => server.stop(),
  };
});


/** Everything an error could show a log: message, stack, cause, own properties. */
function everything(err: Error): string {
  const cause = err.cause instanceof Error ? `${err.cause.name} ${err.cause.message} ${err.cause.stack ?? ''}` : String(err.cause);
  return `${err.message} ${err.stack ?? ''} ${cause} ${JSON.stringify(err)}`;
}

describe('redisStorage', function () {
  this.timeout(30_000);
  let server: RedisServer;
  const open: RedisStorage[] = [];
  const start = async (options: RedisStorageOptions = {}, ns = NS): Promise<RedisStorage> => {
    const storage = redisStorage({ url: server.url, ...QUICK, ...options });
    open.push(storage);
    await storage.init(ns);
    return storage;
  };

  before(async () => {
    server = await startRedisServer();
  });
  after(async () => {
    await server.stop();
  });
  afterEach(async () => {
    await Promise.all(open.splice(0).map((s) => s.close()));
  });

  it('keeps a namespace under one hash tag: a hash per lease, a sorted set by due time', async () => {
    const storage = await start({ prefix: 'layout:' });
    await storage.save(leaseRecord('k/1', T0 + MINUTE));
    await storage.save(leaseRecord('k2', T0 + 2 * MINUTE));
    const raw = new Redis(server.port, server.host);
    try {
      const keys = (await raw.keys('layout:*')).sort();
      expect(keys).to.have.length(4);
      const tag = /^layout:\{([0-9a-f]{16})\}:due$/.exec(keys[0]!)?.[1];
      expect(tag, keys.join(' ')).to.be.a('string');
      expect(keys).to.deep.equal([`layout:{${tag}}:due`, `layout:{${tag}}:lease:k/1`, `layout:{${tag}}:lease:k2`, `layout:{${tag}}:meta`]);
      expect(await raw.zrange(`layout:{${tag}}:due`, 0, '-1', 'WITHSCORES')).to.deep.equal(['k/1', String(T0 + MINUTE), 'k2', String(T0 + 2 * MINUTE)]);
      const hash = await raw.hgetall(`layout:{${tag}}:lease:k2`);
      expect(Object.keys(hash)).to.deep.equal(['record']);
      expect(JSON.parse(hash['record']!)).to.deep.equal(leaseRecord('k2', T0 + 2 * MINUTE));
      await storage.reschedule('k2', { attempts: 1, lastError: 'e', nextAttempt: new Date(T0).toISOString() });
      expect(JSON.parse((await raw.hget(`layout:{${tag}}:lease:k2`, 'revocation'))!)).to.deep.equal({ attempts: 1, lastError: 'e', nextAttempt: new Date(T0).toISOString() });
      const { epoch, ...meta } = await raw.hgetall(`layout:{${tag}}:meta`);
      expect(meta).to.deep.equal(NS);
      expect(epoch).to.match(/^[0-9a-f]{16}$/);
    } finally {
      raw.disconnect();
    }
  });

  it('lets two storages on one Redis claim disjoint sets, every lease exactly once', async () => {
    const a = await start();
    const b = await start();
    const total = 2000;
    await Promise.all(Array.from({ length: total }, (_, i) => (i % 2 ? a : b).save(leaseRecord(`d${i}`, T0 + (i % 50)))));
    const claims = new Map<string, number>();
    const claimer = async (storage: RedisStorage): Promise<void> => {
      for (;;) {
        const batch = await storage.claimDue(new Date(T0 + MINUTE), 37, 60 * MINUTE);
        if (batch.length === 0) return;
        for (const record of batch) claims.set(record.id, (claims.get(record.id) ?? 0) + 1);
      }
    };
    await Promise.all([claimer(a), claimer(b), claimer(a), claimer(b)]);
    expect(claims.size).to.equal(total);
    expect([...claims.values()].every((n) => n === 1)).to.equal(true);
  });

  it('skips a corrupt lease in claims and listings instead of failing them all', async () => {
    const warnings: string[] = [];
    const logger = { info: () => undefined, warn: (fields: object, message: string) => warnings.push(`${message} ${JSON.stringify(fields)}`) };
    const storage = await start({ prefix: 'corrupt:', logger });
    await storage.save(leaseRecord('good', T0));
    await storage.save(leaseRecord('bad', T0));
    const raw = new Redis(server.port, server.host);
    try {
      const [key] = await raw.keys('corrupt:*:lease:bad');
      await raw.hset(key!, 'record', '{"id":"bad","value":"token-value-bad"');
    } finally {
      raw.disconnect();
    }
    expect((await storage.getAll()).map((r) => r.id)).to.deep.equal(['good']);
    expect((await storage.claimDue(new Date(T0), 10, MINUTE)).map((r) => r.id)).to.deep.equal(['good']);
    expect((await rejection(storage.get('bad'))).message).to.match(/stored lease "bad" is corrupt/);
    expect(warnings.join('\n')).to.contain('corrupt').and.not.to.contain('token-value-bad');
  });

  it('lists 100,000 leases with getAll in batches', async function () {
    this.timeout(60_000);
    const storage = await start({ prefix: 'bulk:' });
    const n = 100_000;
    // Loaded straight into Redis (same layout as save) to keep the test about getAll.
    const raw = new Redis(server.port, server.host);
    try {
      await storage.save(leaseRecord('seed', T0));
      const [dueKey] = await raw.keys('bulk:*:due');
      const base = dueKey!.slice(0, -3);
      for (let start = 0; start < n; start += 5000) {
        const pipeline = raw.pipeline();
        for (let i = start; i < Math.min(n, start + 5000); i++) {
          pipeline.hset(`${base}lease:x${i}`, 'record', JSON.stringify(leaseRecord(`x${i}`, T0 + i)));
          pipeline.zadd(dueKey!, T0 + i, `x${i}`);
        }
        await pipeline.exec();
      }
      // Batches, not a round trip per lease: count the commands Redis serves for one getAll.
      await raw.config('RESETSTAT');
      const all = await storage.getAll();
      expect(all.length).to.equal(n + 1);
      expect(new Set(all.map((r) => r.id)).size).to.equal(n + 1);
      const stats = String(await raw.info('commandstats'));
      const calls = new Map([...stats.matchAll(/^cmdstat_(\w+):calls=(\d+)/gm)].map(([, name, count]) => [name!, Number(count)]));
      // the client's own commands: a ZRANGE, then 101 batches of 1000 through a script (EVAL once, then EVALSHA)
      const roundTrips = (calls.get('zrange') ?? 0) + (calls.get('eval') ?? 0) + (calls.get('evalsha') ?? 0);
      expect(roundTrips, stats).to.be.within(1 + Math.ceil((n + 1) / 1000), 2 + Math.ceil((n + 1) / 1000));
      expect(calls.get('hgetall'), 'inside the scripts: one per lease').to.equal(n + 1);
    } finally {
      raw.disconnect();
    }
  });

  it('fails fast with StorageUnavailableError while Redis is down, then recovers by itself', async function () {
    const own = await startRedisServer();
    let unhandled: unknown;
    const onUnhandled = (err: unknown) => {
      unhandled = err;
    };
    process.on('unhandledRejection', onUnhandled);
    process.on('uncaughtException', onUnhandled);
    try {
      // Timeouts far beyond the test's own: each failure below comes without waiting for one.
      const storage = await start({ url: own.url, connectTimeoutMs: 120_000, commandTimeoutMs: 120_000 });
      await storage.save(leaseRecord('before', T0));
      expect(storage.status).to.equal('ready');

      await own.stop();
      for (const request of [
        () => storage.get('before'),
        () => storage.save(leaseRecord('during', T0)),
        () => storage.claimDue(new Date(T0), 10, MINUTE),
        () => storage.getAll(),
      ]) {
        const err = await rejection(request());
        expect(err.name).to.equal('StorageUnavailableError');
        expect(err.message).to.not.match(/no reply within/);
        expect(err.message).to.match(new RegExp(`^Redis unavailable at 127\\.0\\.0\\.1:${own.port}: `));
      }
      expect(storage.status).to.equal('unavailable');

      await own.restart();
      await storage.ready(20_000);
      expect(storage.status).to.equal('ready');
      // The server came back empty (no persistence): the same object works again.
      await storage.save(leaseRecord('after', T0));
      expect((await storage.get('after'))?.id).to.equal('after');
      expect(await storage.count()).to.equal(1);
      expect(unhandled).to.equal(undefined);
    } finally {
      process.off('unhandledRejection', onUnhandled);
      process.off('uncaughtException', onUnhandled);
      await own.stop();
    }
  });

  it('fails a request in flight when the connection drops, instead of queueing it', async () => {
    const own = await startRedisServer();
    const raw = new Redis(own.port, own.host);
    try {
      // A command timeout beyond the test's own: the failure comes from the dropped connection.
      const storage = await start({ url: own.url, commandTimeoutMs: 120_000 });
      // CLIENT PAUSE holds every client's commands: ours is in flight when the server dies.
      await raw.call('CLIENT', 'PAUSE', '100000', 'ALL');
      const pending = rejection(storage.count());
      await own.stop();
      const err = await pending;
      expect(err.name).to.equal('StorageUnavailableError');
      expect(err.message).to.match(/connection lost/);
    } finally {
      raw.disconnect();
      await own.stop();
    }
  });

  it('gives up on a request the server does not answer within commandTimeoutMs', async () => {
    const own = await startRedisServer();
    const raw = new Redis(own.port, own.host);
    try {
      const storage = await start({ url: own.url, commandTimeoutMs: 300 });
      await raw.call('CLIENT', 'PAUSE', '2000', 'ALL');
      const started = performance.now();
      const err = await rejection(storage.get('x'));
      // not before its time (how long after depends on the machine's load)
      expect(performance.now() - started).to.be.at.least(250);
      expect(err.name).to.equal('StorageUnavailableError');
      expect(err.message).to.equal(`Redis unavailable at 127.0.0.1:${own.port}: no reply within 300 ms`);
    } finally {
      raw.disconnect();
      await own.stop();
    }
  });

  it('keeps its data across a restart of a persistent Redis', async () => {
    const own = await startRedisServer({ persistence: true });
    try {
      const storage = await start({ url: own.url });
      await storage.save(leaseRecord('kept', T0));
      await own.restart();
      await storage.ready(10_000);
      expect((await storage.get('kept'))?.id).to.equal('kept');
    } finally {
      await own.stop();
    }
  });

  it('says what Redis persists, and warns when it is nothing', async () => {
    const warnings: string[] = [];
    const logger = { info: () => undefined, warn: (_fields: object, message: string) => warnings.push(message) };
    const volatile = await start({ logger });
    expect(volatile.durability()).to.deep.equal({ persists: false, detail: 'appendonly no, save ""' });
    expect(warnings.filter((w) => /persists nothing/.test(w))).to.have.length(1);
    const own = await startRedisServer({ persistence: true });
    try {
      const durable = await start({ url: own.url, logger });
      expect(durable.durability()).to.deep.equal({ persists: true, detail: 'appendonly yes (appendfsync always)' });
      expect(warnings.filter((w) => /persists nothing/.test(w))).to.have.length(1);
    } finally {
      await own.stop();
    }
  });

  it('tells its listeners when Redis comes back without its data, and not when it kept it', async () => {
    const volatile = await startRedisServer();
    const durable = await startRedisServer({ persistence: true });
    try {
      const lost = await start({ url: volatile.url });
      const kept = await start({ url: durable.url });
      let keptLosses = 0;
      kept.onDataLoss(() => keptLosses++);
      for (let round = 1; round <= 2; round++) {
        const heard = new Promise<void>((resolve) => {
          const stop = lost.onDataLoss(() => {
            stop();
            resolve();
          });
        });
        await lost.save(leaseRecord(`lease-${round}`, T0));
        await volatile.restart();
        await heard;
        expect(await lost.count(), 'the restart kept nothing').to.equal(0);
      }

      await kept.save(leaseRecord('kept', T0));
      await durable.restart();
      await kept.ready(20_000);
      // the check after the reconnect went out before this request, on the same connection
      expect(await kept.count()).to.equal(1);
      await new Promise((resolve) => setImmediate(resolve));
      expect(keptLosses).to.equal(0);
    } finally {
      await volatile.stop();
      await durable.stop();
    }
  });

  it('fails init clearly when nothing listens', async () => {
    const own = await startRedisServer();
    await own.stop();
    const storage = redisStorage({ url: `redis://:hunter2-secret@127.0.0.1:${own.port}/0`, ...QUICK, connectTimeoutMs: 500 });
    // the message names the 500 ms connect timeout: it failed on that, not on a test timeout
    const err = await rejection(storage.init(NS));
    expect(err.name).to.equal('StorageUnavailableError');
    expect(err.message).to.match(new RegExp(`^Redis unavailable at 127\\.0\\.0\\.1:${own.port}: not connected within 500 ms`));
    expect(everything(err)).not.to.contain('hunter2');
    await storage.close();
  });

  it('init waits for a Redis that comes up within connectTimeoutMs', async () => {
    const own = await startRedisServer();
    try {
      await own.stop();
      const storage = redisStorage({ url: own.url, ...QUICK, connectTimeoutMs: 5000 });
      open.push(storage);
      const initializing = storage.init(NS);
      expect(storage.status).to.equal('connecting');
      await own.restart();
      await initializing;
      expect(storage.status).to.equal('ready');
      await storage.save(leaseRecord('late', T0));
      expect(await storage.count()).to.equal(1);
    } finally {
      await own.stop();
    }
  });

  it('is closed for good after close(), even mid-init', async () => {
    const own = await startRedisServer();
    try {
      await own.stop();
      const storage = redisStorage({ url: own.url, ...QUICK });
      const initializing = rejection(storage.init(NS));
      await storage.close();
      expect((await initializing).name).to.equal('StorageUnavailableError');
      expect(storage.status).to.equal('closed');
      expect((await rejection(storage.count())).name).to.equal('StorageUnavailableError');
      expect((await rejection(storage.init(NS))).message).to.match(/closed/);
    } finally {
      await own.stop();
    }
  });

  describe('with a password', () => {
    let secured: RedisServer;
    const password = 'correct-horse-battery-staple';
    before(async () => {
      secured = await startRedisServer({ password });
    });
    after(async () => {
      await secured.stop();
    });

    it('connects with the password from the URL', async () => {
      expect(secured.url).to.contain(password);
      const storage = await start({ url: `${secured.url}/3` });
      await storage.save(leaseRecord('p1', T0));
      expect((await storage.get('p1'))?.id).to.equal('p1');
    });

    it('refuses a wrong password at once, without showing it', async () => {
      const wrong = 'wrong-password-d0not-show';
      for (const options of [{ url: `redis://:${wrong}@127.0.0.1:${secured.port}` }, { redis: { host: '127.0.0.1', port: secured.port, password: wrong } }]) {
        const storage = redisStorage({ ...QUICK, connectTimeoutMs: 5000, ...options });
        // WRONGPASS in the message: refused by Redis, not after the 5 s connect timeout
        const err = await rejection(storage.init(NS));
        expect(err.name).to.equal('StorageUnavailableError');
        expect(err.message).to.match(/^Redis unavailable at 127\.0\.0\.1:\d+: .*(WRONGPASS|invalid)/);
        expect(everything(err)).not.to.contain(wrong);
        await storage.close();
      }
    });

    it('never shows the password when Redis goes down', async () => {
      const own = await startRedisServer({ password });
      try {
        const storage = await start({ url: own.url });
        await own.stop();
        const err = await rejection(storage.count());
        expect(err.name).to.equal('StorageUnavailableError');
        expect(everything(err)).not.to.contain(password);
      } finally {
        await own.stop();
      }
    });
  });
});

describe('startRedisServer (the harness these tests stand on)', () => {
  it('names the Debian package when redis-server is missing', async () => {
    const err = await rejection(startRedisServer({ binary: '/nonexistent/redis-server' }));
    expect(err.message).to.match(/not found: install the Debian package "redis-server"/);
  });

  it('restarts on the same port', async () => {
    const server = await startRedisServer();
    try {
      const raw = new Redis({ port: server.port, host: server.host, lazyConnect: true, retryStrategy: () => null });
      raw.on('error', () => undefined);
      await raw.connect();
      expect(await raw.ping()).to.equal('PONG');
      raw.disconnect();
      await server.stop();
      await server.stop();
      await server.restart();
      const again = new Redis({ port: server.port, host: server.host, lazyConnect: true });
      await again.connect();
      expect(await again.ping()).to.equal('PONG');
      again.disconnect();
    } finally {
      await server.stop();
    }
  });
});

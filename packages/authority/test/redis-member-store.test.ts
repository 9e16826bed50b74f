import { randomBytes } from 'node:crypto';
import { expect } from 'chai';
import { Cluster, Redis } from 'ioredis';
import { MemberStoreUnavailableError, redisMemberStore } from '@tessera/authority';
import { startRedisServer, type RedisServer } from '@tessera/testing';
import { memberStoreSuite, someIdentifier, someToken } from './member-store-suite.js';

const T0 = Date.parse('2030-01-01T00:00:00.000Z');

/** A prefix of its own, hash-tagged as the hub's is. */
function freshPrefix(): string {
  return `tessera:{${randomBytes(8).toString('hex')}}:auth:`;
}

memberStoreSuite('redis', async () => {
  const server = await startRedisServer();
  return { create: (limits) => redisMemberStore({ ...limits, redis: server.url, keyPrefix: freshPrefix() }), teardown: () => server.stop() };
});

memberStoreSuite('redis (one-node Cluster, a client of the caller)', async () => {
  const server = await startRedisServer({ cluster: true });
  const cluster = new Cluster([{ host: server.host, port: server.port }]);
  return {
    create: (limits) => redisMemberStore({ ...limits, redis: cluster, keyPrefix: freshPrefix() }),
    teardown: async () => {
      await cluster.quit();
      await server.stop();
    },
  };
});

describe('redisMemberStore', function () {
  this.timeout(30_000);
  let server: RedisServer;
  before(async () => {
    server = await startRedisServer();
  });
  after(async () => {
    await server.stop();
  });

  it('keeps everything under its prefix, tokens only as hashes that expire with the token', async () => {
    const prefix = freshPrefix();
    const store = redisMemberStore({ redis: server.url, keyPrefix: prefix });
    const redeemed = someToken({ uses: 2, expires: Date.now() + 60_000 });
    await store.addToken(redeemed.record, Date.now());
    const who = someIdentifier();
    await store.redeem(redeemed.record.hash, who, Date.now());

    const raw = new Redis(server.port, server.host);
    try {
      const keys = (await raw.keys('*')).sort();
      expect(keys).to.deep.equal([`${prefix}member-ids`, `${prefix}members`, `${prefix}token:${redeemed.record.hash}`, `${prefix}tokens`].sort());
      const dump = JSON.stringify([await raw.hgetall(`${prefix}token:${redeemed.record.hash}`), await raw.hgetall(`${prefix}members`), await raw.zrange(`${prefix}tokens`, 0, '-1')]);
      expect(dump).not.to.include(redeemed.token);
      expect(await raw.hget(`${prefix}token:${redeemed.record.hash}`, 'uses')).to.equal('1');
      expect(await raw.pttl(`${prefix}token:${redeemed.record.hash}`)).to.be.within(1, 60_000);
      expect(JSON.parse((await raw.hget(`${prefix}members`, who))!)).to.deep.include({ identifier: who, attributes: redeemed.record.attributes });
    } finally {
      raw.disconnect();
      await store.close();
    }
  });

  it('fails with MemberStoreUnavailableError while Redis is down, and works again once it is back', async () => {
    const own = await startRedisServer();
    const store = redisMemberStore({ redis: own.url, keyPrefix: freshPrefix() });
    try {
      await store.init();
      await own.stop();
      expect(await store.member(someIdentifier()).catch((e: unknown) => e)).to.be.instanceOf(MemberStoreUnavailableError);
      await own.restart();
      const { record } = someToken();
      await store.addToken(record, T0);
      expect((await store.redeem(record.hash, someIdentifier(), T0)).ok).to.equal(true);
    } finally {
      await store.close();
      await own.stop();
    }
  });
});

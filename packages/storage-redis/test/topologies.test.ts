import { expect } from 'chai';
import { parseRedisSpec, redisStorage } from '@tessera/storage-redis';
import { skipWithoutRedis, startRedisCluster, startRedisSentinel, storageServiceSuite } from '@tessera/testing';
import type { RedisClusterOptions } from '@tessera/testing';

const PASSWORD = 'topology-secret';
const QUICK = { connectTimeoutMs: 2000, commandTimeoutMs: 10_000, reconnect: { minDelayMs: 20, maxDelayMs: 200 } };

storageServiceSuite('redis (three-primary Cluster, redis+cluster://)', async (ctx) => {
  const options: RedisClusterOptions = { password: PASSWORD };
  const cluster = await skipWithoutRedis(ctx, () => startRedisCluster(options));
  const spec = parseRedisSpec(`redis+cluster://${cluster.addresses.join(',')}`, { REDIS_PASSWORD: PASSWORD });
  return { create: () => redisStorage({ ...spec.connection, ...QUICK }), shared: true, bulk: 2000, teardown: () => cluster.stop() };
});

storageServiceSuite('redis (Sentinel, redis+sentinel://)', async (ctx) => {
  const sentinel = await skipWithoutRedis(ctx, () => startRedisSentinel({ password: PASSWORD }));
  const spec = parseRedisSpec(`redis+sentinel://${sentinel.sentinels.join(',')}/${sentinel.masterName}`, { REDIS_PASSWORD: PASSWORD });
  return { create: () => redisStorage({ ...spec.connection, ...QUICK }), shared: true, bulk: 2000, teardown: () => sentinel.stop() };
});

describe('parseRedisSpec', () => {
  it('reads Cluster nodes and Sentinels, with the password from the environment only', () => {
    const cluster = parseRedisSpec('redis+cluster://Redis-A:7000,[::1]:7001,10.0.0.3:7002', { REDIS_PASSWORD: 'pw' });
    expect(cluster.kind).to.equal('cluster');
    expect(cluster.servers).to.deep.equal(['10.0.0.3:7002', '[::1]:7001', 'redis-a:7000']);
    expect(cluster.connection.cluster?.nodes).to.deep.equal([
      { host: 'redis-a', port: 7000 },
      { host: '::1', port: 7001 },
      { host: '10.0.0.3', port: 7002 },
    ]);
    expect(cluster.connection.cluster?.options).to.deep.equal({ redisOptions: { password: 'pw' } });

    const sentinel = parseRedisSpec('redis+sentinel://s1:26379,s2:26379/mymaster', { REDIS_PASSWORD: 'pw', REDIS_SENTINEL_PASSWORD: 'spw' });
    expect(sentinel).to.deep.include({ kind: 'sentinel', masterName: 'mymaster', servers: ['s1:26379', 's2:26379'] });
    expect(sentinel.connection.redis).to.deep.equal({
      sentinels: [
        { host: 's1', port: 26379 },
        { host: 's2', port: 26379 },
      ],
      name: 'mymaster',
      password: 'pw',
      sentinelPassword: 'spw',
    });
    expect(parseRedisSpec('redis://127.0.0.1:6379/2').connection).to.deep.equal({ url: 'redis://127.0.0.1:6379/2' });
    // the same nodes in any order, repeated or not, are the same servers (and so the same derived deployment)
    expect(parseRedisSpec('redis+cluster://b:7001,a:7000,b:7001').servers).to.deep.equal(parseRedisSpec('redis+cluster://a:7000,b:7001').servers);
    // REDIS_PASSWORD for a URL without a password of its own; one with a password keeps it
    expect(parseRedisSpec('redis://127.0.0.1:6379/2', { REDIS_PASSWORD: 'pw' }).connection).to.deep.equal({ url: 'redis://127.0.0.1:6379/2', redis: { password: 'pw' } });
    expect(parseRedisSpec('redis://:own@127.0.0.1:6379/2', { REDIS_PASSWORD: 'pw' }).connection).to.deep.equal({ url: 'redis://:own@127.0.0.1:6379/2' });
  });

  it('refuses malformed specs without echoing them', () => {
    for (const spec of ['redis+cluster://', 'redis+cluster://host', 'redis+cluster://h:99999', 'redis+sentinel://s1:26379', 'redis+sentinel://s1:26379/bad name', 'redis+sentinel://u:secret@s1:1/m', 'http://x']) {
      expect(() => parseRedisSpec(spec), spec).to.throw(/redis storage/).with.property('message').that.does.not.contain('secret');
    }
  });
});

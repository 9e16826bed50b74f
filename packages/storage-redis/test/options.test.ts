import { expect } from 'chai';
import { redisStorage, type RedisStorageOptions } from '@tessera/storage-redis';

function refusal(options: RedisStorageOptions): Error {
  try {
    redisStorage(options);
  } catch (err) {
    return err as Error;
  }
  throw new Error('expected the options to be refused');
}

describe('redisStorage options', () => {
  it('accepts redis:// and rediss:// URLs, ioredis options, Sentinel and Cluster', () => {
    for (const options of [
      { url: 'redis://127.0.0.1:6379' },
      { url: 'redis://user:pw@redis.example:6380/2' },
      { url: 'rediss://redis.example' },
      { url: 'redis://[::1]:6379/0', prefix: 'app:' },
      { redis: { host: '127.0.0.1', port: 6379, db: 1, password: 'x' } },
      { redis: { sentinels: [{ host: '10.0.0.1', port: 26379 }], name: 'mymaster' } },
      { cluster: { nodes: ['10.0.0.1:7000', { host: '10.0.0.2', port: 7001 }], options: { scaleReads: 'master' as const } } },
    ] satisfies RedisStorageOptions[]) {
      expect(redisStorage(options).name).to.equal('redis');
    }
  });

  it('refuses bad options with InvalidOptionsError saying what is wrong', () => {
    const cases: Array<[RedisStorageOptions, RegExp]> = [
      [{}, /url.*redis.*cluster/],
      [{ url: 'http://127.0.0.1:6379' }, /redis:\/\/ or rediss:\/\//],
      [{ url: 'not a url' }, /not a valid URL/],
      [{ url: 'redis://127.0.0.1:6379/abc' }, /database number/],
      [{ url: 'redis://127.0.0.1', cluster: { nodes: ['127.0.0.1:7000'] } }, /not both/],
      [{ url: 'redis://127.0.0.1', prefix: 'a{b}' }, /prefix.*\{ or \}/],
      [{ url: 'redis://127.0.0.1', redis: { keyPrefix: 'x:' } }, /keyPrefix/],
      [{ redis: { sentinels: [{ host: 'a', port: 1 }] } }, /Sentinel needs `name`/],
      [{ url: 'redis://127.0.0.1', commandTimeoutMs: 0 }, /commandTimeoutMs/],
      [{ url: 'redis://127.0.0.1', reconnect: { minDelayMs: 500, maxDelayMs: 100 } }, /minDelayMs/],
      [{ url: 'redis://127.0.0.1', bogus: true } as RedisStorageOptions, /bogus/],
    ];
    for (const [options, pattern] of cases) {
      const err = refusal(options);
      expect(err.name, JSON.stringify(options)).to.equal('InvalidOptionsError');
      expect(err.message).to.match(pattern);
    }
  });

  it('never echoes a password from a refused URL', () => {
    for (const url of ['redis://:s3cret-pw@host:notaport', 'http://:s3cret-pw@host:6379', 'redis://:s3cret-pw@host:6379/x']) {
      const err = refusal({ url });
      expect(`${err.message} ${err.stack}`).not.to.contain('s3cret-pw');
    }
  });
});

import { expect } from 'chai';
import { DeploymentSchema } from '@tessera/cloud-influxdb';
import { hubDeployment } from '../src/hub/deployment.js';

describe('a hub’s default deployment', () => {
  const of = (storage: string, host = 'box-a', listen = '127.0.0.1:4000') => hubDeployment({ storage, listen, deployment: undefined }, host).name;

  it('is what --deployment says, when it says', () => {
    expect(hubDeployment({ storage: 'memory', listen: '127.0.0.1:4000', deployment: 'prod' })).to.deep.equal({ name: 'prod', derived: false });
  });

  it('is one for hubs sharing a Redis database, another for another database or server, and never shows a password', () => {
    const shared = of('redis://redis.internal:6379/2', 'box-a');
    expect(DeploymentSchema.safeParse(shared).success, shared).to.equal(true);
    expect(shared).to.match(/^redis-[0-9a-f]{12}$/);
    expect(of('redis://redis.internal:6379/2', 'box-b'), 'another machine, same Redis').to.equal(shared);
    expect(of('redis://:s3cret-pass@redis.internal/2'), 'credentials and the default port change nothing').to.equal(shared);
    expect(of('redis://user:other@REDIS.internal:6379/2')).to.equal(shared);
    expect(of('redis://redis.internal:6379/3')).to.not.equal(shared);
    expect(of('redis://redis.internal:6380/2')).to.not.equal(shared);
    expect(of('redis://:s3cret-pass@redis.internal/2')).to.not.include('s3cret');
    expect(() => of('redis://:s3cret-pass@[bad')).to.throw(/not a valid redis:\/\/ URL/).with.property('message').that.does.not.include('s3cret');
  });

  it('tells machines apart when Redis is on loopback (each machine’s localhost is another Redis)', () => {
    expect(of('redis://127.0.0.1:6379', 'box-a')).to.not.equal(of('redis://127.0.0.1:6379', 'box-b'));
    expect(of('redis://localhost:6379', 'box-a')).to.equal(of('redis://localhost:6379', 'box-a'));
  });

  it('for memory storage, is stable across restarts of one hub and differs between machines and listeners', () => {
    const memory = of('memory', 'box-a', '0.0.0.0:4000');
    expect(memory).to.match(/^memory-[0-9a-f]{12}$/);
    expect(of('memory', 'box-a', '0.0.0.0:4000')).to.equal(memory);
    expect(of('memory', 'box-b', '0.0.0.0:4000')).to.not.equal(memory);
    expect(of('memory', 'box-a', '0.0.0.0:4001')).to.not.equal(memory);
    expect(of('memory:/var/lib/tessera/leases.json', 'box-a')).to.not.equal(of('memory:/var/lib/tessera/other.json', 'box-a'));
  });

  it('for memory storage on port 0, is one of its own per run (two such hubs on one machine must not sweep each other)', () => {
    const a = of('memory', 'box-a', '127.0.0.1:0');
    expect(a).to.match(/^memory-[0-9a-f]{12}$/);
    expect(of('memory', 'box-a', '127.0.0.1:0')).to.not.equal(a);
  });
});

import { expect } from 'chai';
import { DeploymentSchema } from '@tessera/cloud-influxdb';
import { hubDeployment } from '../src/hub/deployment.js';
import { HubConfigSchema } from '../src/hub/hub-config.js';

describe('--storage for Redis topologies', () => {
  const of = (storage: string, host = 'box-a') => hubDeployment({ storage, listen: '127.0.0.1:4000', deployment: undefined }, host).name;

  it('accepts redis+cluster:// and redis+sentinel:// specs, and nothing else new', () => {
    for (const storage of ['redis+cluster://10.0.0.1:7000,10.0.0.2:7000', 'redis+sentinel://s1:26379,s2:26379/mymaster']) {
      expect(HubConfigSchema.safeParse({ storage }).success, storage).to.equal(true);
    }
    for (const storage of ['redis+cluster://', 'redis+other://h:1', 'cluster://h:1']) {
      expect(HubConfigSchema.safeParse({ storage }).success, storage).to.equal(false);
    }
  });

  it('derives one deployment for hubs naming the same nodes (in any order), another for other nodes or another master group', () => {
    const cluster = of('redis+cluster://10.0.0.1:7000,10.0.0.2:7000,10.0.0.3:7000');
    expect(DeploymentSchema.safeParse(cluster).success, cluster).to.equal(true);
    expect(cluster).to.match(/^redis-cluster-[0-9a-f]{12}$/);
    expect(of('redis+cluster://10.0.0.3:7000,10.0.0.1:7000,10.0.0.2:7000', 'box-b')).to.equal(cluster);
    expect(of('redis+cluster://10.0.0.1:7000,10.0.0.2:7000')).to.not.equal(cluster);

    const sentinel = of('redis+sentinel://s1:26379,s2:26379/mymaster');
    expect(sentinel).to.match(/^redis-sentinel-[0-9a-f]{12}$/);
    expect(of('redis+sentinel://s2:26379,S1:26379/mymaster', 'box-b')).to.equal(sentinel);
    expect(of('redis+sentinel://s1:26379,s2:26379/other')).to.not.equal(sentinel);
  });

  it('tells machines apart when every node is on loopback', () => {
    expect(of('redis+cluster://127.0.0.1:7000,[::1]:7001', 'box-a')).to.not.equal(of('redis+cluster://127.0.0.1:7000,[::1]:7001', 'box-b'));
    expect(of('redis+cluster://127.0.0.1:7000,10.0.0.1:7001', 'box-a')).to.equal(of('redis+cluster://127.0.0.1:7000,10.0.0.1:7001', 'box-b'));
  });
});

describe('the storage as tessera hub prints it', () => {
  it('hides whatever comes before the host, a password with @ in it too', async () => {
    const { describeStorage } = await import('../src/hub-command.js');
    expect(describeStorage('redis://default:p@ss@127.0.0.1:6399/0')).to.equal('redis://***@127.0.0.1:6399/0');
    expect(describeStorage('redis://:s%40cret@redis:6379/0')).to.equal('redis://***@redis:6379/0');
    expect(describeStorage('redis://redis:6379/0')).to.equal('redis://redis:6379/0');
    expect(describeStorage('memory:/var/lib/tessera/hub.json')).to.equal('memory:/var/lib/tessera/hub.json');
  });
});

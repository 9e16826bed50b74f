// One owner cannot take more than its share of the lease worker: each owner has a
// bounded queue, owners take turns, and none runs more than ownerConcurrency at once.
import { expect } from 'chai';
import { influxdbV2 } from '@tessera/cloud-influxdb';
import { FairScheduler } from '@tessera/token-lease';
import { waitUntil } from '@tessera/testing';
import { startHub, type HubFixture } from './fixtures.js';
import { gatedCloud } from './gated-cloud.js';
import { rawPeers } from './raw-lease-client.js';

describe('fair share of the lease worker', () => {
  let fx: HubFixture;
  const { peer, closeAll } = rawPeers(() => fx.port);
  afterEach(async () => {
    closeAll();
    await fx?.close();
  });

  it("an owner with 50 creates stuck in the cloud holds at most its share; another owner's request is answered meanwhile", async () => {
    let gate!: ReturnType<typeof gatedCloud>;
    fx = await startHub({
      cloud: (influx) => (gate = gatedCloud(influxdbV2({ url: influx.url, token: influx.token, org: influx.org }))).cloud,
      worker: { concurrency: 8, ownerConcurrency: 4 },
      quotas: { maxActiveLeases: 0, createsPerMinute: 0 },
    });
    const [greedy, other] = [await peer(), await peer()];
    const flood = Array.from({ length: 50 }, () => greedy.call({ action: 'create' }));
    await waitUntil('the greedy owner to fill its share', () => gate.state.inFlight === 4);
    // still stuck: the other owner gets its answer all the same
    expect((await other.call({ action: 'list' })).leases).to.deep.equal([]);
    expect(gate.state.inFlight).to.equal(4);
    gate.open();
    const answers = await Promise.all(flood);
    expect(answers.filter((r) => r.result === 'success')).to.have.length(50);
    expect(gate.state.most, 'never more than the owner share in the cloud at once').to.equal(4);
  });

  it('bounds the queues: past its own queue an owner gets quota_exceeded at once, past the total queue everyone gets unavailable', async () => {
    let gate!: ReturnType<typeof gatedCloud>;
    fx = await startHub({
      cloud: (influx) => (gate = gatedCloud(influxdbV2({ url: influx.url, token: influx.token, org: influx.org }))).cloud,
      worker: { concurrency: 4, ownerConcurrency: 2, ownerQueue: 5, queue: 8 },
      quotas: { maxActiveLeases: 0, createsPerMinute: 0 },
    });
    const [a, b] = [await peer(), await peer()];
    // a: 2 run, 5 wait, 3 are refused at once (answered while the cloud is still shut)
    const fromA = Array.from({ length: 10 }, (_, i) => a.call({ action: 'create', request_id: `a${i}` }));
    const refusedA = await Promise.all(fromA.slice(7));
    for (const r of refusedA) expect(r).to.include({ result: 'failure', code: 'quota_exceeded', message: 'quota exceeded: too many requests of this caller waiting' });
    // b: 2 run, 3 wait (the total queue of 8 is full), the 6th and 7th are refused: the hub is busy
    const fromB = Array.from({ length: 7 }, (_, i) => b.call({ action: 'create', request_id: `b${i}` }));
    const refusedB = await Promise.all(fromB.slice(5));
    for (const r of refusedB) expect(r).to.include({ result: 'failure', code: 'unavailable' });
    await waitUntil('four creates in the cloud', () => gate.state.inFlight === 4);
    gate.open();
    const served = await Promise.all([...fromA.slice(0, 7), ...fromB.slice(0, 5)]);
    expect(served.every((r) => r.result === 'success')).to.equal(true);
  });

  it('owners take turns: with one slot, jobs start A, B, C, A, B, A, … whatever order they arrived in', async () => {
    const scheduler = new FairScheduler({ concurrency: 1, perKey: 1, perKeyQueue: 100, queue: 1_000 });
    const started: string[] = [];
    let release: () => void = () => undefined;
    const job = (name: string) => () =>
      new Promise<void>((resolve) => {
        started.push(name);
        release = resolve;
      });
    for (let i = 0; i < 4; i++) scheduler.submit('A', job('A'));
    for (let i = 0; i < 2; i++) scheduler.submit('B', job('B'));
    scheduler.submit('C', job('C'));
    while (started.length < 7) {
      const before = started.length;
      release();
      await waitUntil('the next job to start', () => started.length > before);
    }
    expect(started.join('')).to.equal('ABCABAA');
    release();
    await scheduler.idle();
    expect(scheduler.stats()).to.deep.equal({ running: 0, queued: 0, keys: 0 });
  });
});

// HubLink, the console's side of a hub, against a real secure hub: what it
// does with the events that follow a subscribe's answer at once.
import { expect } from 'chai';
import type { LeaseRecord } from '@tessera/token-lease';
import { silentLogger } from '@tessera/core';
import { waitUntil } from '@tessera/testing';
import { HubLink } from '../src/hub/hub-link.js';
import { SUBSCRIPTION_LIMITS, type HubEvent } from '../src/protocol/operator-view.js';
import { type ConsoleFixture, logIn, readEvents, startConsoleFixture } from './console-fixture.js';

describe('HubLink', function () {
  this.timeout(60_000);
  let fx: ConsoleFixture;
  let link: HubLink | undefined;

  beforeEach(async () => {
    fx = await startConsoleFixture({ identityRequestRate: 0 }); // one device renews past a subscription's bound in a burst
  });
  afterEach(async () => {
    await link?.stop();
    link = undefined;
    await fx.stop();
  });

  /** Waits until the fixture's own console is subscribed, so what follows concerns only the link under test. */
  async function consoleSubscribed(): Promise<void> {
    const cookie = await logIn(fx.console);
    await waitUntil("the console's own subscription", async () => {
      const [view] = await readEvents(await fetch(new URL('/api/events', fx.console.url), { headers: { cookie } }), (e) => e.length > 0);
      return (view!.data as { link: { connected: boolean } }).link.connected;
    });
  }

  /** Holds the hub's next snapshot read until `release` (events meanwhile wait, then follow its answer at once); `reads` notes when each read starts. */
  function gateSnapshot() {
    const storage = fx.hub.service.storage;
    const getAll = storage.getAll.bind(storage);
    const reads: number[] = [];
    let reading: () => void = () => undefined;
    const read = new Promise<void>((resolve) => (reading = resolve));
    let release: () => void = () => undefined;
    const gate = new Promise<void>((resolve) => (release = resolve));
    storage.getAll = async (): Promise<LeaseRecord[]> => {
      reads.push(Date.now());
      if (reads.length === 1) {
        reading();
        await gate;
      }
      return getAll();
    };
    return { read, release, reads, restore: () => (storage.getAll = getAll) };
  }

  function newLink(): HubLink {
    link = new HubLink({ hub: fx.hub.listener.url, identity: fx.admin, hubIdentifier: fx.hub.secure!.identifier, logger: silentLogger });
    return link;
  }

  it('keeps the events that arrive right behind the answer to its subscribe, without subscribing again', async () => {
    await consoleSubscribed();
    const gate = gateSnapshot();
    const device = await fx.device();
    const link = newLink();
    let snapshots = 0;
    const events: HubEvent[] = [];
    link.on('snapshot', () => snapshots++);
    link.on('event', (e) => events.push(e));
    await link.start();
    await gate.read;
    const first = (await device.ask('token_lease', { action: 'create', options: {} })).lease!;
    await fx.hub.secure!.operatorView.feed.idle();
    gate.restore();
    gate.release();
    await waitUntil('the snapshot', () => snapshots > 0);

    const second = (await device.ask('token_lease', { action: 'create', options: {} })).lease!;
    const issued = (id: string) => events.some((e) => e.event === 'lease_issued' && e.lease.id === id);
    await waitUntil('the second lease or a second snapshot', () => issued(second.id) || snapshots > 1);
    expect(issued(first.id), 'the event that followed the answer').to.equal(true);
    expect(snapshots, 'subscribed once').to.equal(1);
  });

  it('after a gap, says it is not live and waits before it subscribes again (each snapshot reads all the hub’s leases)', async () => {
    await consoleSubscribed();
    const gate = gateSnapshot();
    const device = await fx.device();
    const lease = (await device.ask('token_lease', { action: 'create', options: {} })).lease!;
    const link = newLink();
    const states: boolean[] = [];
    link.on('link', (state) => states.push(state.connected));
    await link.start();
    await gate.read;
    // more events than a subscription keeps while its snapshot is read: its answer is followed by a gap
    for (let i = 0; i <= SUBSCRIPTION_LIMITS.unacknowledged; i++) {
      expect((await device.ask('token_lease', { action: 'renew', token_id: lease.id, ttl: 60_000 })).result).to.equal('success');
    }
    await fx.hub.secure!.operatorView.feed.idle();
    const released = Date.now();
    gate.release();
    await waitUntil('a second snapshot read', () => gate.reads.length > 1);
    expect(gate.reads[1]! - released, 'ms before subscribing again').to.be.at.least(400);
    expect(states.slice(0, 2), 'live, then not while it waits').to.deep.equal([true, false]);
  });
});

// HubLink, the console's side of a hub, against a real secure hub: what it
// does with the events that follow a subscribe's answer at once.
import { expect } from 'chai';
import type { LeaseRecord } from '@tessera/token-lease';
import { silentLogger } from '@tessera/core';
import { waitUntil } from '@tessera/testing';
import { HubLink } from '../src/hub/hub-link.js';
import type { HubEvent } from '../src/protocol/operator-view.js';
import { type ConsoleFixture, logIn, readEvents, startConsoleFixture } from './console-fixture.js';

describe('HubLink', function () {
  this.timeout(60_000);
  let fx: ConsoleFixture;
  let link: HubLink | undefined;

  beforeEach(async () => {
    fx = await startConsoleFixture();
  });
  afterEach(async () => {
    await link?.stop();
    link = undefined;
    await fx.stop();
  });

  it('keeps the events that arrive right behind the answer to its subscribe, without subscribing again', async () => {
    // the fixture's console subscribed first, so the gate holds only this link's snapshot
    const cookie = await logIn(fx.console);
    await waitUntil("the console's own subscription", async () => {
      const [view] = await readEvents(await fetch(new URL('/api/events', fx.console.url), { headers: { cookie } }), (e) => e.length > 0);
      return (view!.data as { link: { connected: boolean } }).link.connected;
    });
    // the hub's snapshot waits at this gate, so an event happens while it is read and follows its answer at once
    const storage = fx.hub.service.storage;
    const getAll = storage.getAll.bind(storage);
    let reading: () => void = () => undefined;
    const read = new Promise<void>((resolve) => (reading = resolve));
    let release: () => void = () => undefined;
    const gate = new Promise<void>((resolve) => (release = resolve));
    storage.getAll = async (): Promise<LeaseRecord[]> => {
      reading();
      await gate;
      return getAll();
    };
    const device = await fx.device();
    link = new HubLink({ hub: fx.hub.listener.url, identity: fx.admin, hubIdentifier: fx.hub.secure!.identifier, logger: silentLogger });
    let snapshots = 0;
    const events: HubEvent[] = [];
    link.on('snapshot', () => snapshots++);
    link.on('event', (e) => events.push(e));
    await link.start();
    await read;
    const first = (await device.ask('token_lease', { action: 'create', options: {} })).lease!;
    await fx.hub.secure!.operatorView.feed.idle();
    storage.getAll = getAll;
    release();
    await waitUntil('the snapshot', () => snapshots > 0);

    const second = (await device.ask('token_lease', { action: 'create', options: {} })).lease!;
    const issued = (id: string) => events.some((e) => e.event === 'lease_issued' && e.lease.id === id);
    await waitUntil('the second lease or a second snapshot', () => issued(second.id) || snapshots > 1);
    expect(issued(first.id), 'the event that followed the answer').to.equal(true);
    expect(snapshots, 'subscribed once').to.equal(1);
  });
});

// The bounds of one subscription to the operator's view (docs/protocol.md §8),
// on a fake clock: events beyond the unacknowledged bound become one gap,
// events wait for the snapshot's answer, and a subscription not renewed ends.
import FakeTimers from '@sinonjs/fake-timers';
import { expect } from 'chai';
import { type Clock, local } from '@tessera/core';
import { SUBSCRIPTION_LIMITS, type HubEvent, type HubEventBody } from '@tessera/console';
import { Subscription, Subscriptions } from '../src/hub/operator-view/subscriptions.js';

function fakeClock(): { clock: Clock; fake: FakeTimers.Clock } {
  const fake = FakeTimers.createClock(Date.parse('2030-01-01T00:00:00Z'));
  return { fake, clock: { now: () => fake.now, setTimeout: fake.setTimeout, clearTimeout: fake.clearTimeout } };
}

const IDENTITY = `I${'a'.repeat(64)}`;
const removed = (n: number): HubEventBody => ({ event: 'member_removed', at: '2030-01-01T00:00:00.000Z', identifier: `I${n.toString(16).padStart(64, '0')}` });

describe('a subscription to the operator’s view: bounds on a fake clock', () => {
  let sent: HubEvent[];
  let routable: boolean;
  let fake: FakeTimers.Clock;
  let subscriptions: Subscriptions;
  const open = (limits = { ...SUBSCRIPTION_LIMITS, unacknowledged: 3 }): Subscription => {
    const { clock, fake: f } = fakeClock();
    fake = f;
    subscriptions = new Subscriptions(
      (_route, event) => {
        sent.push(event);
        return routable;
      },
      clock,
      limits,
    );
    return subscriptions.open(IDENTITY, [local('inbox')], new Promise(() => {})) as Subscription;
  };

  beforeEach(() => {
    sent = [];
    routable = true;
  });

  it('sends at most `unacknowledged` events ahead of the acknowledgements, then one gap counting the rest', () => {
    const s = open();
    s.start();
    for (let i = 1; i <= 5; i++) s.deliver(removed(i));
    expect(sent.map((e) => e.seq)).to.deep.equal([1, 2, 3]);
    s.acknowledge(2);
    expect(sent.slice(3)).to.have.length(1);
    expect(sent[3]).to.deep.include({ event: 'gap', seq: 4, dropped: 2 });
    s.deliver(removed(6));
    expect(sent.map((e) => e.event)).to.deep.equal(['member_removed', 'member_removed', 'member_removed', 'gap', 'member_removed']);
    // an acknowledgement beyond what was sent acknowledges only what was sent
    s.acknowledge(99);
    for (let i = 7; i <= 9; i++) s.deliver(removed(i));
    expect(sent.map((e) => e.seq)).to.deep.equal([1, 2, 3, 4, 5, 6, 7, 8]);
  });

  it('keeps what happens before the snapshot is answered, and sends it after', () => {
    const s = open();
    s.deliver(removed(1));
    s.deliver(removed(2));
    expect(sent).to.have.length(0);
    s.start();
    expect(sent.map((e) => (e as { identifier: string }).identifier.slice(-1))).to.deep.equal(['1', '2']);
  });

  it('ends 60 s after its subscribe or last renewal, telling the subscriber', () => {
    const s = open();
    s.start();
    fake.tick(SUBSCRIPTION_LIMITS.lifetime - 10_000);
    subscriptions.renew(s);
    fake.tick(SUBSCRIPTION_LIMITS.lifetime - 1);
    expect(s.isOpen).to.equal(true);
    fake.tick(1);
    expect(s.isOpen).to.equal(false);
    expect(subscriptions.size).to.equal(0);
    expect(sent.at(-1)).to.deep.include({ event: 'ended', reason: 'expired' });
    s.deliver(removed(1));
    expect(sent.at(-1)!.event).to.equal('ended');
  });

  it('holds one watch on a channel’s closing however often it subscribes again through it, and ends the open one when it closes', () => {
    open();
    // a channel's `closed`, counting who waits for it (each waiter is kept until the channel closes)
    const waiters: (() => void)[] = [];
    const closed = { then: (onClosed: () => void) => void waiters.push(onClosed) } as unknown as Promise<void>;
    let last: Subscription | undefined;
    for (let i = 0; i < 100; i++) {
      if (last !== undefined) subscriptions.end(last, 'unsubscribed');
      last = subscriptions.open(IDENTITY, [local('inbox')], closed) as Subscription;
    }
    expect(waiters.length, 'waiters on one channel’s closing').to.be.at.most(1);
    for (const closing of waiters) closing();
    expect(last!.isOpen).to.equal(false);
    expect(subscriptions.size, 'the one open() made, on a channel of its own').to.equal(1);
  });

  it('ends when an event cannot be routed to it (its channel is gone)', () => {
    const s = open();
    s.start();
    routable = false;
    s.deliver(removed(1));
    expect(s.isOpen).to.equal(false);
    expect(subscriptions.size).to.equal(0);
  });
});

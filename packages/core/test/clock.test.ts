import { expect } from 'chai';
import FakeTimers from '@sinonjs/fake-timers';
import { type Clock, MAX_TIMER_DELAY, setLongTimeout } from '@tessera/core';

const DAY = 86_400_000;

function fakeClock(): { clock: Clock; fake: FakeTimers.Clock } {
  const fake = FakeTimers.createClock();
  return { fake, clock: { now: () => fake.now, setTimeout: fake.setTimeout, clearTimeout: fake.clearTimeout } };
}

describe('setLongTimeout', () => {
  it('fires a 40-day wait once, after 40 days, not after 1 ms as a plain setTimeout past 2^31 − 1 ms does', () => {
    const { clock, fake } = fakeClock();
    let fired = 0;
    setLongTimeout(clock, () => fired++, 40 * DAY);
    fake.tick(1);
    expect(fired).to.equal(0);
    fake.tick(MAX_TIMER_DELAY);
    expect(fired, 'after the first piece').to.equal(0);
    fake.tick(40 * DAY - MAX_TIMER_DELAY - 2);
    expect(fired, 'one ms early').to.equal(0);
    fake.tick(1);
    expect(fired).to.equal(1);
    fake.tick(100 * DAY);
    expect(fired, 'once only').to.equal(1);
  });

  it('fires a short wait on time, and a negative one at once (on the next turn of the clock)', () => {
    const { clock, fake } = fakeClock();
    const fired: string[] = [];
    setLongTimeout(clock, () => fired.push('short'), 500);
    setLongTimeout(clock, () => fired.push('negative'), -5);
    fake.tick(0);
    expect(fired).to.deep.equal(['negative']);
    fake.tick(499);
    expect(fired).to.deep.equal(['negative']);
    fake.tick(1);
    expect(fired).to.deep.equal(['negative', 'short']);
  });

  it('is cancelled in any piece: nothing fires afterwards', () => {
    const { clock, fake } = fakeClock();
    let fired = 0;
    const early = setLongTimeout(clock, () => fired++, 30 * DAY);
    const late = setLongTimeout(clock, () => fired++, 60 * DAY);
    early.cancel();
    fake.tick(MAX_TIMER_DELAY + DAY);
    late.cancel();
    late.cancel();
    fake.tick(100 * DAY);
    expect(fired).to.equal(0);
    expect(fake.countTimers()).to.equal(0);
  });
});

import { expect } from 'chai';
import FakeTimers from '@sinonjs/fake-timers';
import { type Clock, ClosedError, RetriesExhaustedError, retry, sleep } from '@tessera/core';

const POLICY = { initialDelay: 100, maxDelay: 1_000, factor: 2, jitter: 0, maxAttempts: 4 };

function fakeClock(): { clock: Clock; fake: FakeTimers.Clock } {
  const fake = FakeTimers.createClock();
  return { fake, clock: { now: () => fake.now, setTimeout: fake.setTimeout, clearTimeout: fake.clearTimeout } };
}

describe('retry on a clock', () => {
  it('waits the back-off on the clock between attempts and returns the first success', async () => {
    const { clock, fake } = fakeClock();
    const waits: number[] = [];
    const done = retry(
      async (n) => {
        if (n < 3) throw new Error(`down ${n}`);
        return `up at ${fake.now}`;
      },
      { policy: POLICY, clock, onRetry: (_n, delay) => waits.push(delay) },
    );
    await fake.runAllAsync();
    expect(await done).to.equal('up at 300');
    expect(waits).to.deep.equal([100, 200]);
  });

  it('throws at once a failure not worth retrying, and RetriesExhaustedError with the last failure after maxAttempts', async () => {
    const { clock, fake } = fakeClock();
    const refused = new Error('refused');
    let calls = 0;
    const once = retry(() => (calls++, Promise.reject(refused)), { policy: POLICY, clock, shouldRetry: (err) => err !== refused });
    expect(await once.catch((e: unknown) => e)).to.equal(refused);
    expect(calls).to.equal(1);

    const last = new Error('still down');
    const exhausted = retry(() => Promise.reject(last), { policy: POLICY, clock }).catch((e: unknown) => e);
    await fake.runAllAsync();
    const err = (await exhausted) as RetriesExhaustedError;
    expect(err).to.be.instanceOf(RetriesExhaustedError);
    expect([err.code, err.attempts, err.cause]).to.deep.equal(['RETRIES_EXHAUSTED', 4, last]);
  });

  it('an abort ends the wait at once and rejects with the reason, with no further attempt', async () => {
    const { clock, fake } = fakeClock();
    const stop = new AbortController();
    let calls = 0;
    const done = retry(() => (calls++, Promise.reject(new Error('down'))), { policy: POLICY, clock, signal: stop.signal }).catch((e: unknown) => e);
    await fake.tickAsync(0);
    stop.abort(new ClosedError('stopped'));
    expect(await done).to.be.instanceOf(ClosedError);
    expect([calls, fake.countTimers()]).to.deep.equal([1, 0]);
  });

  it('sleep resolves after its time, or at once on abort, leaving no timer', async () => {
    const { clock, fake } = fakeClock();
    let woke = false;
    const nap = sleep(50, clock).then(() => (woke = true));
    await fake.tickAsync(49);
    expect(woke).to.equal(false);
    await fake.tickAsync(1);
    await nap;
    const wake = new AbortController();
    const long = sleep(60_000, clock, wake.signal);
    wake.abort();
    await long;
    expect(fake.countTimers()).to.equal(0);
  });
});

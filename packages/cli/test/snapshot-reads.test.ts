// The hub's snapshot reads, one at a time (src/hub/operator-view/snapshot-reads.ts):
// asks during a read share the next one; a read that fails fails only those that
// shared it, and the next ask reads again.
import { expect } from 'chai';
import { SnapshotReads } from '../src/hub/operator-view/snapshot-reads.js';

/** A read the test finishes by hand; `started` counts the reads begun. */
function manualReads() {
  const pending: { resolve: (n: number) => void; reject: (err: Error) => void }[] = [];
  const reads = new SnapshotReads<number>(() => new Promise<number>((resolve, reject) => void pending.push({ resolve, reject })));
  return { reads, pending, started: () => pending.length };
}

const settle = () => new Promise<void>((resolve) => setImmediate(resolve));

describe('snapshot reads, one at a time', () => {
  it('gives the asks that come during a read one shared read after it, and reads anew after that', async () => {
    const { reads, pending, started } = manualReads();
    const first = reads.get();
    await settle();
    const during = [reads.get(), reads.get(), reads.get()];
    await settle();
    expect(started(), 'one read at a time').to.equal(1);
    pending[0]!.resolve(1);
    expect(await first).to.equal(1);
    await settle();
    expect(started(), 'the waiting asks share the next').to.equal(2);
    pending[1]!.resolve(2);
    expect(await Promise.all(during)).to.deep.equal([2, 2, 2]);
    const after = reads.get();
    await settle();
    expect(started()).to.equal(3);
    pending[2]!.resolve(3);
    expect(await after).to.equal(3);
  });

  it('fails the asks that shared a failed read, and reads again for the next', async () => {
    const { reads, pending, started } = manualReads();
    const first = reads.get();
    await settle();
    const shared = [reads.get(), reads.get()];
    pending[0]!.resolve(1);
    await first;
    await settle();
    pending[1]!.reject(new Error('storage unavailable'));
    for (const ask of shared) await ask.then(() => expect.fail('a failed read answered'), (err: Error) => expect(err.message).to.equal('storage unavailable'));
    const again = reads.get();
    await settle();
    expect(started()).to.equal(3);
    pending[2]!.resolve(3);
    expect(await again).to.equal(3);
  });
});

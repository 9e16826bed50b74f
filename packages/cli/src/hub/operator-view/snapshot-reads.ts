/**
 * The hub's snapshot reads (docs/protocol.md §8), one at a time: a read asked
 * for while one runs waits for the next, and every ask that waited shares it.
 * Each snapshot reads every lease in storage, so concurrent subscribes (and
 * consoles subscribing again after a timeout) would otherwise each hold a copy
 * and load the storage together. A waiting ask does not join the read under
 * way: its subscription was opened after that read began, so an event between
 * the two could be in neither the read nor the subscription's queue; the next
 * read begins after every ask that shares it, and so sees all of that.
 */
export class SnapshotReads<T> {
  private running: Promise<T> | undefined;
  private next: { promise: Promise<T>; resolve: (read: Promise<T>) => void } | undefined;

  constructor(private readonly read: () => Promise<T>) {}

  /** A snapshot read that begins now, or after the one under way (shared by all that ask meanwhile). */
  get(): Promise<T> {
    if (this.running === undefined) return this.begin();
    if (this.next === undefined) {
      let resolve!: (read: Promise<T>) => void;
      const promise = new Promise<T>((r) => (resolve = r));
      this.next = { promise, resolve };
    }
    return this.next.promise;
  }

  private begin(): Promise<T> {
    const running = Promise.resolve().then(() => this.read());
    this.running = running;
    // the next read begins in the same turn as this one ends: no ask can slip in between
    const ended = () => {
      const next = this.next;
      this.next = undefined;
      this.running = undefined;
      if (next !== undefined) next.resolve(this.begin());
    };
    running.then(ended, ended);
    return running;
  }
}

import type { Route } from '@tessera/core';

/**
 * The frames waiting for a connection's socket (down, or backed up), each
 * with the return route of its message so a dropped one can fail its local
 * request. Bounded in messages and in bytes.
 */
export class OutboundQueue {
  private frames: (Buffer | undefined)[] = [];
  private backs: (Route | undefined)[] = [];
  private head = 0;
  private bytes = 0;

  constructor(
    readonly maxMessages: number,
    readonly maxBytes: number,
  ) {}

  get size(): number {
    return this.frames.length - this.head;
  }

  /** Queues a frame; false when that would pass either bound. */
  push(frame: Buffer, back: Route): boolean {
    if (this.size >= this.maxMessages || this.bytes + frame.length > this.maxBytes) return false;
    this.bytes += frame.length;
    this.frames.push(frame);
    this.backs.push(back);
    return true;
  }

  /** The oldest frame, taken off the queue. */
  shift(): Buffer | undefined {
    if (this.head >= this.frames.length) return undefined;
    const frame = this.frames[this.head]!;
    this.frames[this.head] = undefined;
    this.backs[this.head] = undefined;
    this.head++;
    this.bytes -= frame.length;
    if (this.head === this.frames.length) this.reset();
    return frame;
  }

  /** Empties the queue, handing each waiting message's return route to `dropped`. */
  clear(dropped: (back: Route) => void): void {
    const backs = this.backs;
    const from = this.head;
    this.reset();
    for (let i = from; i < backs.length; i++) dropped(backs[i] ?? []);
  }

  private reset(): void {
    this.frames = [];
    this.backs = [];
    this.head = 0;
    this.bytes = 0;
  }
}

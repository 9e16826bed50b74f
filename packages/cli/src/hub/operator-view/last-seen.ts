import type { Clock, Context, Message, Worker } from '@tessera/core';

/** Identities remembered at most by default: the least recently seen go first. */
const DEFAULT_CAPACITY = 100_000;

/**
 * When each identity last sent a request through a secure channel to this
 * hub, since it started (docs/protocol.md §8, a member's `lastSeen`). Bounded:
 * past `capacity` identities, the one seen longest ago is forgotten.
 */
export class LastSeen {
  private readonly seen = new Map<string, number>();

  constructor(
    private readonly clock: Clock,
    private readonly capacity = DEFAULT_CAPACITY,
  ) {}

  touch(identifier: string): void {
    // re-inserted, so the map's order is the order of last sight
    this.seen.delete(identifier);
    this.seen.set(identifier, this.clock.now());
    if (this.seen.size > this.capacity) {
      const oldest = this.seen.keys().next();
      if (oldest.done !== true) this.seen.delete(oldest.value);
    }
  }

  /** When `identifier` was last seen (ms since the epoch), or undefined. */
  of(identifier: string): number | undefined {
    return this.seen.get(identifier);
  }
}

/** `worker`, noting in `lastSeen` the identity of each message that came through a secure channel. */
export function notingSenders(worker: Worker, lastSeen: LastSeen): Worker {
  const noted: Worker = {
    handleMessage(ctx: Context, msg: Message) {
      if (msg.local.identity !== undefined) lastSeen.touch(msg.local.identity);
      return worker.handleMessage(ctx, msg);
    },
  };
  if (worker.initialize !== undefined) noted.initialize = (ctx) => worker.initialize!(ctx);
  if (worker.shutdown !== undefined) noted.shutdown = (ctx) => worker.shutdown!(ctx);
  return noted;
}

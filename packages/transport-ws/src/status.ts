/** A connection's lifecycle, reported as events and through an async iterator (as nats.js does). */
export type ConnectionStatus =
  | { type: 'connected'; connection: string; peer: string }
  | { type: 'disconnected'; connection: string; peer: string; code: number; reason: string }
  | { type: 'reconnecting'; connection: string; peer: string; attempt: number; delay: number }
  | { type: 'closed'; connection: string; peer: string };

/** Statuses for one reader, in order; a reader that falls behind keeps only the newest `limit`. */
export class StatusStream implements AsyncIterable<ConnectionStatus> {
  private readonly buffered: ConnectionStatus[] = [];
  private waiting: ((r: IteratorResult<ConnectionStatus>) => void) | undefined;
  private ended = false;

  constructor(private readonly limit = 1_000) {}

  push(status: ConnectionStatus): void {
    if (this.ended) return;
    if (this.waiting !== undefined) {
      const wake = this.waiting;
      this.waiting = undefined;
      wake({ value: status, done: false });
      return;
    }
    this.buffered.push(status);
    if (this.buffered.length > this.limit) this.buffered.shift();
  }

  end(): void {
    this.ended = true;
    this.waiting?.({ value: undefined, done: true });
    this.waiting = undefined;
  }

  [Symbol.asyncIterator](): AsyncIterator<ConnectionStatus> {
    return {
      next: () => {
        const next = this.buffered.shift();
        if (next !== undefined) return Promise.resolve({ value: next, done: false });
        if (this.ended) return Promise.resolve({ value: undefined, done: true });
        return new Promise((resolve) => (this.waiting = resolve));
      },
      return: () => {
        this.end();
        return Promise.resolve({ value: undefined, done: true });
      },
    };
  }
}

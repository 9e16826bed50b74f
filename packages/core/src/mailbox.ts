import type { Message } from './message.js';
import type { MailboxPolicy } from './worker.js';

export type Handler = (msg: Message) => Promise<void> | void;

/**
 * A bounded FIFO drained by one loop, so the handler sees one message at a
 * time even when it awaits. `push` never blocks: it returns false when the
 * policy refused the message.
 */
export class Mailbox {
  private queue: (Message | undefined)[] = [];
  private head = 0;
  private running = false;
  private idleWaiters: (() => void)[] = [];
  private closed = false;

  constructor(
    private readonly handler: Handler,
    private readonly onError: (err: unknown, msg: Message) => void,
    private readonly onDrop: (msg: Message) => void,
    readonly capacity: number,
    readonly policy: MailboxPolicy,
  ) {}

  get size(): number {
    return this.queue.length - this.head;
  }

  /** Queues a message; false when the mailbox is closed or full and the policy dropped this one. */
  push(msg: Message): boolean {
    if (this.closed) return false;
    if (this.size >= this.capacity) {
      if (this.policy === 'drop-newest') return false;
      const oldest = this.queue[this.head];
      this.queue[this.head++] = undefined;
      if (oldest !== undefined) this.onDrop(oldest);
    }
    this.queue.push(msg);
    if (!this.running) {
      this.running = true;
      queueMicrotask(this.drain);
    }
    return true;
  }

  /** Resolves when the queue is empty and no handler is running. */
  async idle(): Promise<void> {
    if (!this.running) return;
    await new Promise<void>((resolve) => this.idleWaiters.push(resolve));
  }

  /** Refuses further messages; what is queued still drains. */
  close(): void {
    this.closed = true;
  }

  /** Drops whatever is still queued, counting each. */
  discard(): void {
    while (this.head < this.queue.length) {
      const msg = this.queue[this.head++];
      if (msg !== undefined) this.onDrop(msg);
    }
    this.queue = [];
    this.head = 0;
  }

  private readonly drain = async (): Promise<void> => {
    while (this.head < this.queue.length) {
      const msg = this.queue[this.head]!;
      this.queue[this.head++] = undefined;
      if (this.head >= 1024 && this.head * 2 >= this.queue.length) {
        this.queue = this.queue.slice(this.head);
        this.head = 0;
      }
      try {
        const pending = this.handler(msg);
        if (pending !== undefined) await pending;
      } catch (err) {
        this.onError(err, msg);
      }
    }
    this.queue.length = 0;
    this.head = 0;
    this.running = false;
    const waiters = this.idleWaiters;
    this.idleWaiters = [];
    for (const wake of waiters) wake();
  };
}

/** What one message counts for besides its payload (its routes, the frame), so that empty messages are not free. */
export const MESSAGE_OVERHEAD = 64;

/** Senders remembered at once per forwarder; beyond it the one heard from least lately is forgotten (it starts a new share). */
const MAX_SENDERS = 1_024;

/**
 * Each sender's share of a device's connection while it backs up. As long as
 * nothing waits for the device's socket, every message goes on and nothing is
 * counted. Once messages wait (the device reads slower than it is sent to),
 * each sender — the connection its messages arrive on — may add at most
 * `share` bytes (payload + MESSAGE_OVERHEAD per message; the message that
 * crosses the share still goes) until the device has caught up again; the
 * rest is refused. One flooding sender then holds a bounded part of the
 * connection's queue, and another sender's request, and the device's own
 * liveness check, still find room in it.
 */
export class SenderShares {
  /** Bytes each sender added since the device's connection last had nothing waiting. */
  private readonly used = new Map<string, number>();

  constructor(private readonly share: number) {}

  /** Whether `bytes` from `sender` may go on to a connection that has `waiting` messages queued now. */
  admit(sender: string, bytes: number, waiting: number): boolean {
    if (waiting === 0) {
      // caught up: every sender's share starts again
      this.used.clear();
      return true;
    }
    const used = this.used.get(sender) ?? 0;
    if (used >= this.share) return false;
    this.used.delete(sender);
    this.used.set(sender, used + bytes + MESSAGE_OVERHEAD);
    if (this.used.size > MAX_SENDERS) this.used.delete(this.used.keys().next().value!);
    return true;
  }
}

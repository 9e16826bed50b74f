import { ChannelClosedError, type SecureChannel } from '@tessera/secure-channel';

type Reject = (err: Error) => void;

/**
 * The requests in flight on each channel of a HubSession. When a channel
 * closes (the hub closed it: idle, removal, a bound) they fail at once with
 * ChannelClosedError, which is retryable (the next request opens a new
 * channel), instead of each waiting for its timeout. One reaction per channel
 * on its `closed`, not one per request: a request leaves its channel's set
 * as it settles.
 */
export class ChannelRequests {
  private readonly byChannel = new WeakMap<SecureChannel, Set<Reject>>();

  /** Starts keeping the requests of a channel just opened. */
  watch(channel: SecureChannel): void {
    const pending = new Set<Reject>();
    this.byChannel.set(channel, pending);
    void channel.closed.then(() => {
      for (const reject of pending) reject(closedError());
      pending.clear();
    });
  }

  /** Runs `request` on `channel`: its answer, or ChannelClosedError as soon as the channel closes (at once if it has). */
  async run<T>(channel: SecureChannel, request: () => Promise<T>): Promise<T> {
    if (!channel.isOpen) throw closedError();
    const pending = this.byChannel.get(channel);
    if (pending === undefined) return request();
    let reject!: Reject;
    const closed = new Promise<never>((_, r) => (reject = r));
    pending.add(reject);
    try {
      return await Promise.race([request(), closed]);
    } finally {
      pending.delete(reject);
    }
  }
}

function closedError(): ChannelClosedError {
  return new ChannelClosedError('the secure channel to the hub closed while the request was in flight; the next request opens a new one');
}

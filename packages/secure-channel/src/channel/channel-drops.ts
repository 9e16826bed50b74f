import type { FrameDropReason } from '../frame/frame-format.js';

/** Why a channel end dropped something (docs/protocol.md §5: dropped and counted, the channel goes on). */
export type ChannelDropReason =
  | FrameDropReason
  /** A peer the trust policy refused, or whose credentials expired or failed when renewed. */
  | 'untrusted_peer'
  /** A handshake not finished within the timeout. */
  | 'handshake_timeout'
  /** A handshake message that did not decrypt, had a wrong proof or shape, or was too large. */
  | 'handshake_failed'
  /** A first message beyond the listener's bound on channels, or on half-open handshakes from its source. */
  | 'handshake_limit'
  /** A half-open handshake that gave its place to a newer one when every place was taken (its source held the most). */
  | 'handshake_evicted'
  /** A handshake whose peer identity held the listener's bound on channels per identity already. */
  | 'identity_limit'
  /** A decrypted message whose onward does not start with a LOCAL address, on an end that does not forward. */
  | 'forwarding_refused'
  /** More ciphertexts than the end holds while its handshake finishes. */
  | 'backlog_full';

const REASONS: readonly ChannelDropReason[] = [
  'tampered',
  'replayed',
  'too_old',
  'too_far',
  'garbage',
  'untrusted_peer',
  'handshake_timeout',
  'handshake_failed',
  'handshake_limit',
  'handshake_evicted',
  'identity_limit',
  'forwarding_refused',
  'backlog_full',
];

/** Counts by reason, passed on to a parent (a listener sums its channels'). */
export class ChannelDrops {
  private readonly counts = Object.fromEntries(REASONS.map((r) => [r, 0])) as Record<ChannelDropReason, number>;

  constructor(private readonly parent?: ChannelDrops) {}

  add(reason: ChannelDropReason): void {
    this.counts[reason]++;
    this.parent?.add(reason);
  }

  /** A copy of the counts. */
  toJSON(): Record<ChannelDropReason, number> {
    return { ...this.counts };
  }
}

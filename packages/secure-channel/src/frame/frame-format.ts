/** An encrypted message starts with its counter: 8 bytes, big-endian (docs/protocol.md §5). */
export const COUNTER_LENGTH = 8;
/** Messages per key: the key for counter n is the handshake key after floor(n / 1024) REKEYs. */
export const REKEY_INTERVAL = 1024;
/** The receiver accepts counters at most this far below the highest it has accepted... */
export const WINDOW_BELOW = 64;
/** ...and at most this far above it. */
export const WINDOW_ABOVE = 65_536;

/** Why an encrypted message was dropped. */
export type FrameDropReason = 'tampered' | 'replayed' | 'too_old' | 'too_far' | 'garbage';

/** The epoch of counter n: how many REKEYs its key is past the handshake key. */
export function epochOf(n: number): number {
  return Math.floor(n / REKEY_INTERVAL);
}

import { NonceExhaustedError } from '../errors.js';
import { TAG_LENGTH, type ChaChaPolyKey } from '../noise/chachapoly.js';
import type { CipherState } from '../noise/cipher-state.js';
import { COUNTER_LENGTH, epochOf, WINDOW_ABOVE, WINDOW_BELOW, type FrameDropReason } from './frame-format.js';

/** What FrameReceiver.open made of one encrypted message. */
export type OpenResult = { ok: true; counter: number; plaintext: Uint8Array } | { ok: false; reason: FrameDropReason };

/** Counts of dropped messages, one per reason. */
export type FrameDropCounts = Record<FrameDropReason, number>;

const EMPTY = new Uint8Array(0);
const TWO_POW_32 = 0x1_0000_0000;
// a slot per counter modulo 128: the 65 counters a window can hold never share one
const SLOTS = 128;

/**
 * Opens the encrypted messages of one direction of a channel
 * (docs/protocol.md §5). Accepts a counter it has not accepted before, at
 * most 64 below the highest accepted and at most 65,536 above; the window
 * and keys move only once a message authenticates.
 */
export class FrameReceiver {
  private highest = -1;
  private readonly accepted = new Float64Array(SLOTS).fill(-1);
  /** keys[i] is the key of epoch base + i; past the committed ones, keys derived ahead for a newer counter. */
  private keys: ChaChaPolyKey[];
  private base = 0;
  private readonly counts: FrameDropCounts = { tampered: 0, replayed: 0, too_old: 0, too_far: 0, garbage: 0 };

  /** `cipher` is the receiving CipherState of a finished handshake, not used for anything else. */
  constructor(cipher: CipherState) {
    const key = cipher.key;
    if (key === undefined) throw new NonceExhaustedError('a frame receiver needs a cipher state with a key');
    this.keys = [key];
  }

  /** The highest counter accepted so far, -1 before the first. */
  get highestAccepted(): number {
    return this.highest;
  }

  /** Drops so far, by reason. */
  get drops(): Readonly<FrameDropCounts> {
    return this.counts;
  }

  /** Counts a drop decided by the caller (a plaintext that authenticates but does not decode is `garbage`). */
  countDrop(reason: FrameDropReason): void {
    this.counts[reason]++;
  }

  /** Authenticates and decrypts one encrypted message, or says why it is dropped (and counts it). */
  open(frame: Uint8Array): OpenResult {
    if (frame.length < COUNTER_LENGTH + TAG_LENGTH) return this.drop('garbage');
    const view = Buffer.isBuffer(frame) ? frame : Buffer.from(frame.buffer, frame.byteOffset, frame.byteLength);
    const high = view.readUInt32BE(0);
    // a counter past highest + 65,536 is refused before any work, however large (the high word alone can tell)
    if (high >= (Number.MAX_SAFE_INTEGER + 1) / TWO_POW_32) return this.drop('too_far');
    const n = high * TWO_POW_32 + view.readUInt32BE(4);
    if (n > this.highest + WINDOW_ABOVE) return this.drop('too_far');
    if (n < this.highest - WINDOW_BELOW) return this.drop('too_old');
    if (this.accepted[n % SLOTS] === n) return this.drop('replayed');
    const plaintext = this.keyFor(n).open(n, EMPTY, view.subarray(COUNTER_LENGTH));
    if (plaintext === null) return this.drop('tampered');
    this.commit(n);
    return { ok: true, counter: n, plaintext };
  }

  /**
   * The key of n's epoch. Keys past the committed ones are derived on demand
   * and kept, so forged far counters cost at most 64 REKEYs in all until the
   * window really moves, not 64 each.
   */
  private keyFor(n: number): ChaChaPolyKey {
    const index = epochOf(n) - this.base;
    while (this.keys.length <= index) this.keys.push(this.keys[this.keys.length - 1]!.rekey());
    return this.keys[index]!;
  }

  private commit(n: number): void {
    this.accepted[n % SLOTS] = n;
    if (n <= this.highest) return;
    this.highest = n;
    // keep the keys from the epoch of the window's lowest counter on; older ones can never be used again
    const base = epochOf(Math.max(0, n - WINDOW_BELOW));
    if (base > this.base) {
      this.keys = this.keys.slice(base - this.base);
      this.base = base;
    }
  }

  private drop(reason: FrameDropReason): OpenResult {
    this.counts[reason]++;
    return { ok: false, reason };
  }
}

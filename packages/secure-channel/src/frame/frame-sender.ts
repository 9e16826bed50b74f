import { NonceExhaustedError } from '../errors.js';
import { MAX_NONCE, TAG_LENGTH, type ChaChaPolyKey } from '../noise/chachapoly.js';
import type { CipherState } from '../noise/cipher-state.js';
import { COUNTER_LENGTH, REKEY_INTERVAL } from './frame-format.js';

const EMPTY = new Uint8Array(0);

/**
 * Seals the encrypted messages of one direction of a channel
 * (docs/protocol.md §5): counter n from 0, the key REKEYed every 1024 messages.
 */
export class FrameSender {
  private key: ChaChaPolyKey;
  private n = 0;

  /** `cipher` is the sending CipherState of a finished handshake, not used for anything else. */
  constructor(cipher: CipherState) {
    const key = cipher.key;
    if (key === undefined) throw new NonceExhaustedError('a frame sender needs a cipher state with a key');
    this.key = key;
  }

  /** The counter of the next message. */
  get counter(): number {
    return this.n;
  }

  /** The bytes of one encrypted message: counter, ciphertext, tag. */
  seal(plaintext: Uint8Array): Buffer {
    const out = Buffer.allocUnsafe(COUNTER_LENGTH + plaintext.length + TAG_LENGTH);
    this.sealInto(plaintext, out, 0);
    return out;
  }

  /** Writes one encrypted message into `out` at `offset` (it needs 24 bytes more than the plaintext); returns its length. */
  sealInto(plaintext: Uint8Array, out: Buffer, offset: number): number {
    const n = this.n;
    if (n >= MAX_NONCE) throw new NonceExhaustedError('this channel has sent all the messages its counter allows');
    if (n > 0 && n % REKEY_INTERVAL === 0) this.key = this.key.rekey();
    out.writeUInt32BE(Math.floor(n / 0x1_0000_0000), offset);
    out.writeUInt32BE(n >>> 0, offset + 4);
    const sealed = this.key.sealInto(n, EMPTY, plaintext, out, offset + COUNTER_LENGTH);
    this.n = n + 1;
    return COUNTER_LENGTH + sealed;
  }
}

import { NonceExhaustedError } from '../errors.js';
import { ChaChaPolyKey, MAX_NONCE } from './chachapoly.js';

/**
 * The CipherState of the Noise spec (rev. 34 §5.1): a key `k` (or none) and a
 * counter `n`. Without a key, encryption and decryption return their input.
 */
export class CipherState {
  private k: ChaChaPolyKey | undefined;
  private n = 0;

  constructor(key?: Uint8Array | ChaChaPolyKey) {
    if (key !== undefined) this.initializeKey(key);
  }

  /** InitializeKey(key): sets `k`, resets `n` to 0. */
  initializeKey(key: Uint8Array | ChaChaPolyKey): void {
    this.k = key instanceof ChaChaPolyKey ? key : new ChaChaPolyKey(key);
    this.n = 0;
  }

  /** HasKey(). */
  hasKey(): boolean {
    return this.k !== undefined;
  }

  /** The current key, for layers that choose nonces themselves (docs/protocol.md §5 framing). */
  get key(): ChaChaPolyKey | undefined {
    return this.k;
  }

  /** The next nonce to be used. */
  get nonce(): number {
    return this.n;
  }

  /** SetNonce(nonce). */
  setNonce(nonce: number): void {
    this.n = nonce;
  }

  /** EncryptWithAd(ad, plaintext). */
  encryptWithAd(ad: Uint8Array, plaintext: Uint8Array): Uint8Array {
    if (this.k === undefined) return plaintext;
    this.checkNonce();
    const ciphertext = this.k.seal(this.n, ad, plaintext);
    this.n++;
    return ciphertext;
  }

  /** DecryptWithAd(ad, ciphertext): the plaintext, or null when it does not authenticate (`n` then stays). */
  decryptWithAd(ad: Uint8Array, ciphertext: Uint8Array): Uint8Array | null {
    if (this.k === undefined) return ciphertext;
    this.checkNonce();
    const plaintext = this.k.open(this.n, ad, ciphertext);
    if (plaintext !== null) this.n++;
    return plaintext;
  }

  /** Rekey(): `k` becomes REKEY(k); `n` is unchanged. */
  rekey(): void {
    if (this.k !== undefined) this.k = this.k.rekey();
  }

  private checkNonce(): void {
    if (this.n >= MAX_NONCE) throw new NonceExhaustedError('this cipher state has used all its nonces');
  }
}

import { CipherState } from './cipher-state.js';
import type { ChaChaPolyKey } from './chachapoly.js';
import { HandshakeFailedError } from '../errors.js';
import { HASH_LENGTH, hkdf2, sha256 } from './hash.js';

const EMPTY = new Uint8Array(0);

/** What a SymmetricState holds, to go back to it (Noise's keys and hashes are replaced, never changed in place). */
export interface SymmetricSnapshot {
  readonly ck: Buffer;
  readonly h: Buffer;
  readonly k: ChaChaPolyKey | undefined;
  readonly n: number;
}

/** The SymmetricState of the Noise spec (rev. 34 §5.2), for SHA-256 and ChaChaPoly. */
export class SymmetricState {
  private cipher = new CipherState();
  private ck: Buffer;
  private h: Buffer;

  /** InitializeSymmetric(protocol_name). */
  constructor(protocolName: string) {
    const name = Buffer.from(protocolName, 'ascii');
    if (name.length <= HASH_LENGTH) {
      this.h = Buffer.alloc(HASH_LENGTH);
      name.copy(this.h);
    } else {
      this.h = sha256(name);
    }
    this.ck = this.h;
  }

  /** The state now, for `restore`. */
  save(): SymmetricSnapshot {
    return { ck: this.ck, h: this.h, k: this.cipher.key, n: this.cipher.nonce };
  }

  /** Goes back to a saved state. */
  restore(snapshot: SymmetricSnapshot): void {
    this.ck = snapshot.ck;
    this.h = snapshot.h;
    this.cipher = new CipherState(snapshot.k);
    this.cipher.setNonce(snapshot.n);
  }

  /** MixKey(input_key_material). */
  mixKey(inputKeyMaterial: Uint8Array): void {
    const [ck, tempK] = hkdf2(this.ck, inputKeyMaterial);
    this.ck = ck;
    this.cipher.initializeKey(tempK); // HASHLEN is 32: no truncation
  }

  /** MixHash(data). */
  mixHash(data: Uint8Array): void {
    this.h = sha256(this.h, data);
  }

  /** GetHandshakeHash(). */
  get handshakeHash(): Uint8Array {
    return this.h;
  }

  /** Whether a key has been mixed in (then `s` and payloads are encrypted). */
  hasKey(): boolean {
    return this.cipher.hasKey();
  }

  /** EncryptAndHash(plaintext). */
  encryptAndHash(plaintext: Uint8Array): Uint8Array {
    const ciphertext = this.cipher.encryptWithAd(this.h, plaintext);
    this.mixHash(ciphertext);
    return ciphertext;
  }

  /** DecryptAndHash(ciphertext); throws HandshakeFailedError when it does not authenticate. */
  decryptAndHash(ciphertext: Uint8Array): Uint8Array {
    const plaintext = this.cipher.decryptWithAd(this.h, ciphertext);
    if (plaintext === null) throw new HandshakeFailedError('a handshake message did not authenticate');
    this.mixHash(ciphertext);
    return plaintext;
  }

  /** Split(): the initiator sends with the first cipher state, receives with the second. */
  split(): [CipherState, CipherState] {
    const [k1, k2] = hkdf2(this.ck, EMPTY);
    return [new CipherState(k1), new CipherState(k2)];
  }
}

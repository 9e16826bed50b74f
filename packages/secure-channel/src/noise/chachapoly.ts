import { createCipheriv, createDecipheriv, type CipherChaCha20Poly1305, type DecipherChaCha20Poly1305 } from 'node:crypto';
import { NonceExhaustedError } from '../errors.js';

/** Bytes of a ChaChaPoly key and of its authentication tag. */
export const KEY_LENGTH = 32;
export const TAG_LENGTH = 16;

/** Noise reserves nonce 2^64-1 for REKEY; counters here are JS numbers, so they stop at 2^53-1. */
export const MAX_NONCE = Number.MAX_SAFE_INTEGER;

const ALGORITHM = 'chacha20-poly1305';
const OPTIONS = { authTagLength: TAG_LENGTH } as const;
// createCipheriv copies the nonce before returning, so one buffer serves every call on this thread
const nonce = Buffer.alloc(12);
const REKEY_NONCE = Buffer.from('00000000ffffffffffffffff', 'hex');
const ZEROS = Buffer.alloc(KEY_LENGTH);
const EMPTY = Buffer.alloc(0);

/** Noise's ChaChaPoly nonce encoding: 32 zero bits, then `n` as 64 bits little-endian. */
function nonceFor(n: number): Buffer {
  if (!Number.isSafeInteger(n) || n < 0) throw new NonceExhaustedError(`nonce ${n} is out of range`);
  nonce.writeUInt32LE(n >>> 0, 4);
  nonce.writeUInt32LE(Math.floor(n / 0x1_0000_0000), 8);
  return nonce;
}

/**
 * ChaCha20-Poly1305 under one 32-byte key (RFC 8439, Noise nonce encoding).
 * Immutable: REKEY returns a new key.
 */
export class ChaChaPolyKey {
  private readonly key: Buffer;

  constructor(key: Uint8Array) {
    if (key.length !== KEY_LENGTH) throw new RangeError(`a ChaChaPoly key has ${KEY_LENGTH} bytes`);
    this.key = Buffer.from(key);
  }

  /** The ciphertext of `plaintext` followed by its tag, written into `out` at `offset`; returns the bytes written. */
  sealInto(n: number, ad: Uint8Array, plaintext: Uint8Array, out: Uint8Array, offset: number): number {
    const cipher = this.cipher(nonceFor(n));
    if (ad.length > 0) cipher.setAAD(ad, { plaintextLength: plaintext.length });
    let at = offset;
    if (plaintext.length > 0) {
      const body = cipher.update(plaintext);
      out.set(body, at);
      at += body.length;
    }
    cipher.final();
    out.set(cipher.getAuthTag(), at);
    return at + TAG_LENGTH - offset;
  }

  /** ENCRYPT(k, n, ad, plaintext): ciphertext and tag in a new buffer. */
  seal(n: number, ad: Uint8Array, plaintext: Uint8Array): Buffer {
    const out = Buffer.allocUnsafe(plaintext.length + TAG_LENGTH);
    this.sealInto(n, ad, plaintext, out, 0);
    return out;
  }

  /** DECRYPT(k, n, ad, ciphertext): the plaintext, or null when it does not authenticate. */
  open(n: number, ad: Uint8Array, ciphertext: Uint8Array): Buffer | null {
    if (ciphertext.length < TAG_LENGTH) return null;
    const bodyLength = ciphertext.length - TAG_LENGTH;
    const decipher = this.decipher(nonceFor(n));
    decipher.setAuthTag(ciphertext.subarray(bodyLength));
    if (ad.length > 0) decipher.setAAD(ad, { plaintextLength: bodyLength });
    // the plaintext is not released to anyone until final() has checked the tag
    const plaintext = bodyLength > 0 ? decipher.update(ciphertext.subarray(0, bodyLength)) : EMPTY;
    try {
      decipher.final();
    } catch {
      return null;
    }
    return plaintext;
  }

  /** REKEY(k) of the Noise spec: the first 32 bytes of ENCRYPT(k, 2^64-1, empty, 32 zero bytes). */
  rekey(): ChaChaPolyKey {
    const cipher = this.cipher(REKEY_NONCE);
    const next = cipher.update(ZEROS);
    return new ChaChaPolyKey(next.subarray(0, KEY_LENGTH));
  }

  private cipher(iv: Buffer): CipherChaCha20Poly1305 {
    return createCipheriv(ALGORITHM, this.key, iv, OPTIONS);
  }

  private decipher(iv: Buffer): DecipherChaCha20Poly1305 {
    return createDecipheriv(ALGORITHM, this.key, iv, OPTIONS);
  }
}

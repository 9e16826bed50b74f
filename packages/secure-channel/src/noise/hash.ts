import { hash, hkdfSync } from 'node:crypto';

/** HASHLEN of SHA-256. */
export const HASH_LENGTH = 32;

const EMPTY = new Uint8Array(0);

/**
 * HASH(a || b). The one-shot crypto.hash makes no Hash object: a handshake
 * hashes ~10 times a side, and each Hash object costs its creation and a
 * native finalizer in the next scavenge (docs/benchmarks.md, secure channels).
 */
export function sha256(a: Uint8Array, b?: Uint8Array): Buffer {
  return hash('sha256', b === undefined ? a : Buffer.concat([a, b]), 'buffer');
}

/**
 * HKDF(chaining_key, input_key_material, 2) of the Noise spec. With empty
 * `info` that is RFC 5869 HKDF (salt = chaining key, 64 bytes), so one native
 * hkdfSync call does what three HMAC objects would.
 */
export function hkdf2(chainingKey: Uint8Array, inputKeyMaterial: Uint8Array): [Buffer, Buffer] {
  const out = Buffer.from(hkdfSync('sha256', inputKeyMaterial, chainingKey, EMPTY, 2 * HASH_LENGTH));
  return [out.subarray(0, HASH_LENGTH), out.subarray(HASH_LENGTH)];
}

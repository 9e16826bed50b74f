import { createHmac, hash } from 'node:crypto';

/** HASHLEN of SHA-256. */
export const HASH_LENGTH = 32;

/**
 * HASH(a || b). The one-shot crypto.hash makes no Hash object: a handshake
 * hashes ~10 times a side, and each Hash object costs its creation and a
 * native finalizer in the next scavenge (docs/benchmarks.md, secure channels).
 */
export function sha256(a: Uint8Array, b?: Uint8Array): Buffer {
  return hash('sha256', b === undefined ? a : Buffer.concat([a, b]), 'buffer');
}

function hmac(key: Uint8Array, a: Uint8Array, b?: Uint8Array): Buffer {
  const h = createHmac('sha256', key).update(a);
  if (b !== undefined) h.update(b);
  return h.digest();
}

const ONE = Buffer.from([1]);
const TWO = Buffer.from([2]);

/** HKDF(chaining_key, input_key_material, 2) of the Noise spec. */
export function hkdf2(chainingKey: Uint8Array, inputKeyMaterial: Uint8Array): [Buffer, Buffer] {
  const tempKey = hmac(chainingKey, inputKeyMaterial);
  const output1 = hmac(tempKey, ONE);
  const output2 = hmac(tempKey, output1, TWO);
  return [output1, output2];
}

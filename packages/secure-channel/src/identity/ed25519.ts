import { createPrivateKey, createPublicKey, generateKeyPairSync, sign, verify, type KeyObject } from 'node:crypto';
import { InvalidKeyError } from '../errors.js';
import { ED25519_PUBLIC_KEY_LENGTH, ED25519_SIGNATURE_LENGTH } from './identifier.js';

// Raw public keys cross into node:crypto as JWK, which OpenSSL 3 parses several times faster than DER;
// a private key arrives in DER (the fixed PKCS#8 prefix of RFC 8410), which needs no public half.
const PKCS8_PREFIX = Buffer.from('302e020100300506032b657004220420', 'hex');

/** Bytes of a raw Ed25519 private key (the seed). */
export const ED25519_PRIVATE_KEY_LENGTH = 32;

/** A new Ed25519 private key (KeyObject). */
export function generateEd25519PrivateKey(): KeyObject {
  return generateKeyPairSync('ed25519').privateKey;
}

/** The KeyObject of a raw 32-byte Ed25519 private key. */
export function ed25519PrivateKey(raw: Uint8Array): KeyObject {
  if (raw.length !== ED25519_PRIVATE_KEY_LENGTH) throw new InvalidKeyError(`an Ed25519 private key has ${ED25519_PRIVATE_KEY_LENGTH} bytes`);
  return createPrivateKey({ key: Buffer.concat([PKCS8_PREFIX, raw]), format: 'der', type: 'pkcs8' });
}

/** The raw 32 bytes of an Ed25519 private key. */
export function rawEd25519PrivateKey(key: KeyObject): Buffer {
  return Buffer.from(key.export({ format: 'jwk' }).d!, 'base64url');
}

/** The raw 32 bytes of the public half of an Ed25519 key. */
export function rawEd25519PublicKey(key: KeyObject): Buffer {
  return Buffer.from(createPublicKey(key).export({ format: 'jwk' }).x!, 'base64url');
}

/** The KeyObject of a raw 32-byte Ed25519 public key. */
export function ed25519PublicKey(raw: Uint8Array): KeyObject {
  if (raw.length !== ED25519_PUBLIC_KEY_LENGTH) throw new InvalidKeyError(`an Ed25519 public key has ${ED25519_PUBLIC_KEY_LENGTH} bytes`);
  return createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x: Buffer.from(raw).toString('base64url') }, format: 'jwk' });
}

/** An Ed25519 signature of `data`. */
export function signEd25519(privateKey: KeyObject, data: Uint8Array): Buffer {
  return sign(null, data, privateKey);
}

/** True when `signature` is a valid Ed25519 signature of `data` under the raw `publicKey`; never throws. */
export function verifyEd25519(publicKey: Uint8Array | KeyObject, data: Uint8Array, signature: Uint8Array): boolean {
  if (signature.length !== ED25519_SIGNATURE_LENGTH) return false;
  try {
    const key = publicKey instanceof Uint8Array ? ed25519PublicKey(publicKey) : publicKey;
    return verify(null, data, key, signature);
  } catch {
    return false; // a key that is not a curve point
  }
}

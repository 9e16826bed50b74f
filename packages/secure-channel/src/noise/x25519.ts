import { createPrivateKey, createPublicKey, diffieHellman, generateKeyPairSync, type KeyObject } from 'node:crypto';
import { InvalidKeyError } from '../errors.js';

/** Bytes of an X25519 public key, private key and shared secret. */
export const DH_LENGTH = 32;

// Raw keys cross into node:crypto as JWK: OpenSSL 3 parses a JWK's raw key directly, several times faster than DER.
// A private key arrives in DER (the fixed PKCS#8 prefix of RFC 8410), which needs no public half; that is rare.
const PKCS8_PREFIX = Buffer.from('302e020100300506032b656e04220420', 'hex');

/** An X25519 key pair: the raw public key, the private key kept inside node:crypto. */
export interface X25519KeyPair {
  readonly publicKey: Uint8Array;
  readonly privateKey: KeyObject;
}

/** GENERATE_KEYPAIR() of the Noise spec. */
export function generateX25519KeyPair(): X25519KeyPair {
  const { publicKey, privateKey } = generateKeyPairSync('x25519');
  return { publicKey: rawX25519PublicKey(publicKey), privateKey };
}

/** The key pair of a raw 32-byte X25519 private key (test vectors, keys kept elsewhere). */
export function x25519KeyPairFromPrivate(raw: Uint8Array): X25519KeyPair {
  if (raw.length !== DH_LENGTH) throw new InvalidKeyError(`an X25519 private key has ${DH_LENGTH} bytes`);
  const privateKey = createPrivateKey({ key: Buffer.concat([PKCS8_PREFIX, raw]), format: 'der', type: 'pkcs8' });
  return { publicKey: rawX25519PublicKey(createPublicKey(privateKey)), privateKey };
}

/** A KeyObject for a raw 32-byte X25519 public key. */
export function x25519PublicKey(raw: Uint8Array): KeyObject {
  if (raw.length !== DH_LENGTH) throw new InvalidKeyError(`an X25519 public key has ${DH_LENGTH} bytes`);
  return createPublicKey({ key: { kty: 'OKP', crv: 'X25519', x: Buffer.from(raw).toString('base64url') }, format: 'jwk' });
}

/**
 * Static public keys imported lately, most recent last. A peer keeps its
 * static key across handshakes, so its import (a JWK parse, and a native
 * object for the collector to finalize) is done once, not per handshake.
 * Only for static keys: ephemeral keys are never seen twice. Bounded: the
 * oldest goes first, so a stream of new keys only costs their imports.
 */
const staticKeys = new Map<string, KeyObject>();
const MAX_STATIC_KEYS = 1024;

/** x25519PublicKey for a remote static key, kept for the next handshake with the same peer. */
export function x25519StaticPublicKey(raw: Uint8Array): KeyObject {
  const id = Buffer.from(raw.buffer, raw.byteOffset, raw.byteLength).toString('base64url');
  let key = staticKeys.get(id);
  if (key !== undefined) {
    staticKeys.delete(id);
  } else {
    if (raw.length !== DH_LENGTH) throw new InvalidKeyError(`an X25519 public key has ${DH_LENGTH} bytes`);
    key = createPublicKey({ key: { kty: 'OKP', crv: 'X25519', x: id }, format: 'jwk' });
    if (staticKeys.size >= MAX_STATIC_KEYS) staticKeys.delete(staticKeys.keys().next().value!);
  }
  staticKeys.set(id, key);
  return key;
}

/** DH(key_pair, public_key) of the Noise spec; throws if the result is all zeros (a low-order point). */
export function dh(keyPair: X25519KeyPair, remotePublic: KeyObject): Buffer {
  return diffieHellman({ privateKey: keyPair.privateKey, publicKey: remotePublic });
}

/** The raw 32 bytes of an X25519 public KeyObject. */
export function rawX25519PublicKey(key: KeyObject): Buffer {
  return Buffer.from(key.export({ format: 'jwk' }).x!, 'base64url');
}

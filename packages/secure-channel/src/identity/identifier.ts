import { createHash } from 'node:crypto';
import { InvalidKeyError } from '../errors.js';

/** An identifier: `I` and the lowercase hex of SHA-256 of the raw public key (docs/protocol.md §5). */
export const IDENTIFIER_PATTERN = /^I[0-9a-f]{64}$/;

/** Bytes of a raw Ed25519 public key and of a signature. */
export const ED25519_PUBLIC_KEY_LENGTH = 32;
export const ED25519_SIGNATURE_LENGTH = 64;

/** The identifier of a raw 32-byte Ed25519 public key. */
export function identifierOf(publicKey: Uint8Array): string {
  if (publicKey.length !== ED25519_PUBLIC_KEY_LENGTH) {
    throw new InvalidKeyError(`an Ed25519 public key has ${ED25519_PUBLIC_KEY_LENGTH} bytes, got ${publicKey.length}`);
  }
  return `I${createHash('sha256').update(publicKey).digest('hex')}`;
}

/** True when `text` has the form of an identifier. */
export function isIdentifier(text: unknown): text is string {
  return typeof text === 'string' && IDENTIFIER_PATTERN.test(text);
}

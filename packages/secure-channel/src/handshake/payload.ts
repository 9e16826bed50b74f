import { InvalidHandshakePayloadError } from '../errors.js';
import { ED25519_PUBLIC_KEY_LENGTH, ED25519_SIGNATURE_LENGTH } from '../identity/identifier.js';
import { asBuffer, pack, unpackOrUndefined } from '../msgpack.js';

/** At most this many credentials in a handshake or a credentials message. */
export const MAX_CREDENTIALS = 16;
/** At most this many characters in one credential. */
export const MAX_CREDENTIAL_LENGTH = 8192;

/** The Noise payload of handshake messages 2 and 3 (docs/protocol.md §5). */
export interface HandshakePayload {
  /** The sender's raw Ed25519 identity key. */
  identityKey: Uint8Array;
  /** The identity key's signature over `tessera.sc.v1 static` and the sender's Noise static key. */
  proof: Uint8Array;
  /** Compact JWS credentials about the sender (docs/protocol.md §6). */
  credentials: readonly string[];
}

/** `[identity_key: bin 32, proof: bin 64, credentials: [str, ...]]`. */
export function encodeHandshakePayload(payload: HandshakePayload): Buffer {
  checkCredentials(payload.credentials);
  if (payload.identityKey.length !== ED25519_PUBLIC_KEY_LENGTH || payload.proof.length !== ED25519_SIGNATURE_LENGTH) {
    throw new InvalidHandshakePayloadError('an identity key has 32 bytes and a proof 64');
  }
  return pack([asBuffer(payload.identityKey), asBuffer(payload.proof), payload.credentials]);
}

/** Decodes and checks a peer's handshake payload; throws InvalidHandshakePayloadError. */
export function decodeHandshakePayload(bytes: Uint8Array): HandshakePayload {
  const value = unpackOrUndefined(bytes);
  if (!Array.isArray(value) || value.length !== 3) throw new InvalidHandshakePayloadError('a handshake payload is a MessagePack array of 3 items');
  const [identityKey, proof, credentials] = value as unknown[];
  if (!Buffer.isBuffer(identityKey) || identityKey.length !== ED25519_PUBLIC_KEY_LENGTH) {
    throw new InvalidHandshakePayloadError('identity_key must be bin of 32 bytes');
  }
  if (!Buffer.isBuffer(proof) || proof.length !== ED25519_SIGNATURE_LENGTH) throw new InvalidHandshakePayloadError('proof must be bin of 64 bytes');
  if (!isCredentialList(credentials)) {
    throw new InvalidHandshakePayloadError(`credentials must be an array of at most ${MAX_CREDENTIALS} strings of at most ${MAX_CREDENTIAL_LENGTH} characters`);
  }
  return { identityKey, proof, credentials };
}

/** True when `value` is a list of credentials within the bounds. */
export function isCredentialList(value: unknown): value is string[] {
  return (
    Array.isArray(value) &&
    value.length <= MAX_CREDENTIALS &&
    value.every((c) => typeof c === 'string' && c.length <= MAX_CREDENTIAL_LENGTH)
  );
}

/** Throws InvalidHandshakePayloadError when our own credentials exceed the bounds a peer would refuse. */
export function checkCredentials(credentials: readonly string[]): void {
  if (!isCredentialList(credentials)) {
    throw new InvalidHandshakePayloadError(`at most ${MAX_CREDENTIALS} credentials of at most ${MAX_CREDENTIAL_LENGTH} characters`);
  }
}

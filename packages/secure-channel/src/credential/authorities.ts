import { identifierOf } from '../identity/identifier.js';

/** Authorities whose credentials we accept: identifier to raw Ed25519 public key. */
export type TrustedAuthorities = ReadonlyMap<string, Uint8Array>;

/** The TrustedAuthorities of these raw Ed25519 public keys. */
export function trustedAuthorities(publicKeys: Iterable<Uint8Array>): TrustedAuthorities {
  const map = new Map<string, Uint8Array>();
  for (const key of publicKeys) map.set(identifierOf(key), Uint8Array.from(key));
  return map;
}

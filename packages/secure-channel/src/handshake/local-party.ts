import { identifierOf } from '../identity/identifier.js';
import type { Signer } from '../identity/signer.js';
import { signStaticKey } from '../identity/static-proof.js';
import { generateX25519KeyPair, type X25519KeyPair } from '../noise/x25519.js';
import { checkCredentials } from './payload.js';

/**
 * Our side of secure channels: an identity, the Noise static key it vouches
 * for and the proof, and the credentials we present. The proof is signed once
 * here, so a handshake needs no call to the signer (which may be a remote KMS).
 */
export interface LocalParty {
  readonly identifier: string;
  readonly identityKey: Uint8Array;
  readonly staticKey: X25519KeyPair;
  readonly proof: Uint8Array;
  readonly credentials: readonly string[];
}

/** Options of createLocalParty. */
export interface LocalPartyOptions {
  signer: Signer;
  /** The Noise static key pair; a fresh one by default. */
  staticKey?: X25519KeyPair;
  credentials?: readonly string[];
}

/** Makes a LocalParty: picks the Noise static key and has the signer vouch for it. */
export async function createLocalParty(options: LocalPartyOptions): Promise<LocalParty> {
  const credentials = Object.freeze([...(options.credentials ?? [])]);
  checkCredentials(credentials);
  const staticKey = options.staticKey ?? generateX25519KeyPair();
  const identityKey = Uint8Array.from(options.signer.publicKey);
  const proof = await signStaticKey(options.signer, staticKey.publicKey);
  return Object.freeze({ identifier: identifierOf(identityKey), identityKey, staticKey, proof, credentials });
}

/** The same party presenting other credentials (docs/protocol.md §5 lets a side send newer ones). */
export function withCredentials(party: LocalParty, credentials: readonly string[]): LocalParty {
  const list = Object.freeze([...credentials]);
  checkCredentials(list);
  return Object.freeze({ ...party, credentials: list });
}

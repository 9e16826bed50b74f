import { InvalidKeyError } from '../errors.js';
import { ED25519_SIGNATURE_LENGTH } from './identifier.js';
import { verifyEd25519 } from './ed25519.js';
import type { Signer } from './signer.js';

/** What an identity signs to vouch for a Noise static key: these ASCII bytes, then the key (docs/protocol.md §5). */
export const STATIC_PROOF_CONTEXT = Buffer.from('tessera.sc.v1 static', 'ascii');
const NOISE_KEY_LENGTH = 32;

function proofMessage(noiseStaticKey: Uint8Array): Buffer {
  if (noiseStaticKey.length !== NOISE_KEY_LENGTH) throw new InvalidKeyError(`a Noise static key has ${NOISE_KEY_LENGTH} bytes`);
  return Buffer.concat([STATIC_PROOF_CONTEXT, noiseStaticKey]);
}

/** The proof that `signer`'s identity holds the Noise static key `noiseStaticKey`. */
export async function signStaticKey(signer: Signer, noiseStaticKey: Uint8Array): Promise<Uint8Array> {
  const proof = await signer.sign(proofMessage(noiseStaticKey));
  if (proof.length !== ED25519_SIGNATURE_LENGTH) throw new InvalidKeyError(`a signer returned ${proof.length} bytes, not an Ed25519 signature`);
  return proof;
}

/**
 * Proofs that verified, most recent last. A peer keeps its Noise static key
 * across handshakes, so its proof is checked once, not on every handshake
 * (Ed25519 verification is the dearest step). Only valid proofs get in, and
 * the oldest go first past the bound.
 */
const verified = new Set<string>();
const MAX_VERIFIED = 1024;

/** True when `proof` is `identityKey`'s signature over `noiseStaticKey` as signStaticKey makes it. */
export function verifyStaticKeyProof(identityKey: Uint8Array, noiseStaticKey: Uint8Array, proof: Uint8Array): boolean {
  if (noiseStaticKey.length !== NOISE_KEY_LENGTH) return false;
  const memo = Buffer.concat([identityKey, noiseStaticKey, proof]).toString('base64');
  if (verified.has(memo)) return true;
  if (!verifyEd25519(identityKey, proofMessage(noiseStaticKey), proof)) return false;
  verified.add(memo);
  if (verified.size > MAX_VERIFIED) verified.delete(verified.values().next().value!);
  return true;
}

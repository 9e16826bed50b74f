import type { Clock } from '@tessera/core';
import { InvalidKeyError, MalformedCredentialError } from '../errors.js';
import { ED25519_SIGNATURE_LENGTH, identifierOf, isIdentifier } from '../identity/identifier.js';
import type { Signer } from '../identity/signer.js';
import { encodeSegment, HEADER, MAX_ATTRIBUTES, type CredentialClaims } from './jws-format.js';
import { MAX_CREDENTIAL_LENGTH } from '../handshake/payload.js';

/** Options of issueCredential. */
export interface IssueCredentialOptions {
  /** The authority's identity key. */
  authority: Signer;
  /** The subject's identifier. */
  subject: string;
  attributes: Readonly<Record<string, string>>;
  /** Lifetime in seconds from now. */
  ttlSeconds: number;
  clock: Pick<Clock, 'now'>;
}

/** A credential (compact EdDSA JWS, docs/protocol.md §6) signed by `authority` about `subject`. */
export async function issueCredential(options: IssueCredentialOptions): Promise<string> {
  const { authority, subject, attributes, ttlSeconds, clock } = options;
  if (!isIdentifier(subject)) throw new MalformedCredentialError('the subject must be an identifier');
  if (!Number.isSafeInteger(ttlSeconds) || ttlSeconds <= 0) throw new MalformedCredentialError('ttlSeconds must be a positive integer');
  const entries = Object.entries(attributes);
  if (entries.length > MAX_ATTRIBUTES || !entries.every(([, v]) => typeof v === 'string')) {
    throw new MalformedCredentialError(`attributes are at most ${MAX_ATTRIBUTES} string values`);
  }
  const iat = Math.floor(clock.now() / 1000);
  const claims: CredentialClaims = { iss: identifierOf(authority.publicKey), sub: subject, iat, exp: iat + ttlSeconds, attrs: Object.fromEntries(entries) };
  const signingInput = `${encodeSegment(HEADER)}.${encodeSegment(claims)}`;
  const signature = await authority.sign(Buffer.from(signingInput, 'ascii'));
  if (signature.length !== ED25519_SIGNATURE_LENGTH) throw new InvalidKeyError(`a signer returned ${signature.length} bytes, not an Ed25519 signature`);
  const jws = `${signingInput}.${Buffer.from(signature).toString('base64url')}`;
  if (jws.length > MAX_CREDENTIAL_LENGTH) throw new MalformedCredentialError(`a credential has at most ${MAX_CREDENTIAL_LENGTH} characters`);
  return jws;
}

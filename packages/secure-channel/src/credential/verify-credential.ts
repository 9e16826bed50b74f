import type { Clock } from '@tessera/core';
import {
  BadSignatureError,
  CredentialExpiredError,
  CredentialNotYetValidError,
  MalformedCredentialError,
  UnknownIssuerError,
  WrongSubjectError,
} from '../errors.js';
import { verifyEd25519 } from '../identity/ed25519.js';
import type { TrustedAuthorities } from './authorities.js';
import { decodeSegment, ISSUED_AT_SKEW_SECONDS, MAX_ATTRIBUTES, splitCompact } from './jws-format.js';

/** Options of verifyCredential. */
export interface VerifyCredentialOptions {
  authorities: TrustedAuthorities;
  /** The identifier the credential must be about: the channel's peer. */
  subject: string;
  clock: Pick<Clock, 'now'>;
}

/** A credential that verified. Times are in seconds since the epoch. */
export interface VerifiedCredential {
  readonly issuer: string;
  readonly subject: string;
  readonly issuedAt: number;
  readonly expiresAt: number;
  readonly attributes: Readonly<Record<string, string>>;
}

/**
 * Checks a credential (docs/protocol.md §6): signed with EdDSA by a trusted
 * authority's key, about `subject`, and now within [iat - 60 s, exp).
 * Throws a CredentialError subclass saying which check failed.
 */
export function verifyCredential(jws: string, options: VerifyCredentialOptions): VerifiedCredential {
  const parts = splitCompact(jws);
  if (parts === undefined) throw new MalformedCredentialError('not a compact JWS within the size limit');
  const [headerSegment, claimsSegment, signatureSegment] = parts;
  const header = decodeSegment(headerSegment);
  if (header === undefined || header.alg !== 'EdDSA') throw new MalformedCredentialError('the JWS header must have alg EdDSA');
  if ('crit' in header) throw new MalformedCredentialError('the JWS header asks for extensions this verifier does not know');
  const claims = decodeSegment(claimsSegment);
  if (claims === undefined) throw new MalformedCredentialError('the JWS payload is not a JSON object');
  const { iss, sub, iat, exp, attrs } = claims;
  if (typeof iss !== 'string' || typeof sub !== 'string' || !isTime(iat) || !isTime(exp)) {
    throw new MalformedCredentialError('the claims need iss and sub (strings), iat and exp (seconds)');
  }
  const attributes = attributesOf(attrs);

  const authorityKey = options.authorities.get(iss);
  if (authorityKey === undefined) throw new UnknownIssuerError(`issuer ${short(iss)} is not a trusted authority`);
  const signature = Buffer.from(signatureSegment, 'base64url');
  if (!verifyEd25519(authorityKey, Buffer.from(`${headerSegment}.${claimsSegment}`, 'ascii'), signature)) {
    throw new BadSignatureError(`the signature does not verify under the key of ${short(iss)}`);
  }
  if (sub !== options.subject) throw new WrongSubjectError(`the credential is about ${short(sub)}, not ${short(options.subject)}`);
  const now = options.clock.now() / 1000;
  if (now < iat - ISSUED_AT_SKEW_SECONDS) throw new CredentialNotYetValidError(`the credential is valid from ${iat - ISSUED_AT_SKEW_SECONDS}, now is ${Math.floor(now)}`);
  if (now >= exp) throw new CredentialExpiredError(`the credential expired at ${exp}, now is ${Math.floor(now)}`);
  return Object.freeze({ issuer: iss, subject: sub, issuedAt: iat, expiresAt: exp, attributes });
}

function isTime(value: unknown): value is number {
  return typeof value === 'number' && Number.isFinite(value) && value >= 0;
}

function attributesOf(value: unknown): Readonly<Record<string, string>> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new MalformedCredentialError('attrs must be an object');
  const entries = Object.entries(value);
  if (entries.length > MAX_ATTRIBUTES || !entries.every(([, v]) => typeof v === 'string')) {
    throw new MalformedCredentialError(`attrs holds at most ${MAX_ATTRIBUTES} string values`);
  }
  // fromEntries defines own properties, so a `__proto__` key stays a plain key
  return Object.freeze(Object.fromEntries(entries) as Record<string, string>);
}

/** Enough of an untrusted string to recognise it in a message, never a flood. */
function short(text: string): string {
  return text.length <= 80 ? JSON.stringify(text) : `${JSON.stringify(text.slice(0, 80))}…`;
}

import type { Clock, Logger } from '@tessera/core';
import type { TrustedAuthorities } from '../credential/authorities.js';
import { verifyCredential } from '../credential/verify-credential.js';
import type { Peer } from '../handshake/peer.js';

/** What a trust policy grants a peer: the attributes its messages carry, and until when (ms on the clock). */
export interface Admission {
  readonly attributes: Readonly<Record<string, string>>;
  /** After this time (the earliest expiry of the credentials it rests on) the peer is no longer admitted. */
  readonly validUntil: number;
}

/** Decides whether a peer whose proof verified may have a channel; undefined (or a throw) refuses. */
export interface TrustPolicy {
  /** For logs: which kind of policy this is. */
  readonly kind: string;
  admit(peer: Peer, clock: Pick<Clock, 'now'>): Admission | undefined | Promise<Admission | undefined>;
}

const NO_ATTRIBUTES: Readonly<Record<string, string>> = Object.freeze({});
const FOREVER = Number.POSITIVE_INFINITY;
const admitted: Admission = Object.freeze({ attributes: NO_ATTRIBUTES, validUntil: FOREVER });

/** Admits the peers with one of these identifiers (no attributes: credentials are not checked). */
export function trustIdentifiers(identifiers: Iterable<string>): TrustPolicy {
  const allowed = new Set(identifiers);
  return { kind: 'identifiers', admit: (peer) => (allowed.has(peer.identifier) ? admitted : undefined) };
}

/**
 * Admits a peer that presents at least one credential and whose every
 * credential verifies under one of `authorities` (docs/protocol.md §6): a
 * credential that fails refuses the peer, it is not skipped. Its attributes
 * are the union of the credentials' (later ones win), valid until the
 * earliest expiry. With `require`, those attributes must be present too.
 */
export function trustAuthority(authorities: TrustedAuthorities, options: { require?: Readonly<Record<string, string>> } = {}): TrustPolicy {
  return {
    kind: 'authority',
    admit(peer, clock) {
      if (peer.credentials.length === 0) return undefined;
      const attributes: Record<string, string> = {};
      let validUntil = FOREVER;
      for (const jws of peer.credentials) {
        const credential = verifyCredential(jws, { authorities, subject: peer.identifier, clock }); // throws: refused
        Object.assign(attributes, credential.attributes);
        validUntil = Math.min(validUntil, credential.expiresAt * 1000);
      }
      if (!hasAttributes(attributes, options.require)) return undefined;
      return Object.freeze({ attributes: Object.freeze(attributes), validUntil });
    },
  };
}

/** Admits the peers `decide` says yes to (it may also return an Admission of its own). */
export function trustFunction(decide: (peer: Peer) => boolean | Admission | Promise<boolean | Admission>): TrustPolicy {
  return {
    kind: 'function',
    async admit(peer) {
      const answer = await decide(peer);
      if (answer === true) return admitted;
      if (answer === false || typeof answer !== 'object') return undefined;
      return answer;
    },
  };
}

/** Admits every peer whose proof verifies. For development only: it logs a loud warning when made. */
export function trustEveryone(logger?: Logger): TrustPolicy {
  const warning = 'SECURE CHANNELS TRUST EVERYONE: any identity may open a channel; for development only, never in production';
  if (logger !== undefined) logger.warn({ trust: 'everyone' }, warning);
  else process.emitWarning(warning, { code: 'TESSERA_TRUST_EVERYONE' });
  return { kind: 'everyone', admit: () => admitted };
}

/** True when `attributes` holds every key of `required` with the same value. */
export function hasAttributes(attributes: Readonly<Record<string, string>> | undefined, required: Readonly<Record<string, string>> | undefined): boolean {
  if (required === undefined) return true;
  if (attributes === undefined) return false;
  return Object.entries(required).every(([key, value]) => Object.hasOwn(attributes, key) && attributes[key] === value);
}

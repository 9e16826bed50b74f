import { type Admission, trustAuthority, trustedAuthorities, type TrustPolicy } from '@tessera/secure-channel';

/** What a peer presenting no credential gets: a channel, no attributes (its requests are judged by live membership). */
const NO_CREDENTIALS: Admission = Object.freeze({ attributes: Object.freeze({}), validUntil: Number.POSITIVE_INFINITY });

/**
 * The hub's trust policy (docs/protocol.md §5, §6): a peer presenting
 * credentials is admitted only if every one verifies under the hub's own key
 * (the authority signs with it), and its messages carry their attributes until
 * the earliest expires; a peer presenting none (a stranger come to enroll, or
 * a member that has not fetched one yet) is admitted with no attributes.
 * Newer credentials a peer sends on its channel (kind 2) pass the same policy.
 */
export function hubTrust(hubKey: Uint8Array): TrustPolicy {
  const byCredentials = trustAuthority(trustedAuthorities([hubKey]));
  return {
    kind: 'hub',
    admit: (peer, clock) => (peer.credentials.length === 0 ? NO_CREDENTIALS : byCredentials.admit(peer, clock)),
  };
}

/**
 * @tessera/lease-client: a device's side of the lease API. LeaseClient gets a
 * lease from a hub's token_lease worker over a route (through a secure channel
 * when it has an identity, enrolling once with a bootstrap token), renews it before expiry,
 * replaces it on an authentication failure, and can keep it in an encrypted
 * cache file and its token in a sink file.
 */
export { LeaseClient, type AcquireReason, type LeaseClientEvents, type LeaseClientListener, type LeaseOperation } from './lease-client.js';
export type { LeaseClientOptions } from './options.js';
export {
  LeaseUnavailableError,
  LeaseRejectedError,
  LeaseProtocolError,
  EnrollmentRefusedError,
  NotEnrolledError,
  HubNotTrustedError,
} from './errors.js';
export { HubSession, SECURE_CHANNEL_LISTENER, type HubSessionEvents, type HubSessionOptions } from './hub-session.js';
export { AuthorityApi, AUTHORITY_WORKER, type Enrolled } from './authority-api.js';
export { ApiResponseSchema, decodeResponse } from './json-response.js';
export { renewalDelay, renewalWindow, DEFAULT_RENEWAL_TIMING, type RenewalTiming } from './renewal-timing.js';
export { DEFAULT_RETRY } from './options.js';
// the policy type lives in @tessera/core beside the retry loop; re-exported for existing users
export type { RetryPolicy } from '@tessera/core';

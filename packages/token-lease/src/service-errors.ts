import { defineError } from '@tessera/core';
import { LeaseError } from './errors.js';

/** A token id as it may appear in a message: ids are short; anything long might be a token, and is not repeated. */
export function shownId(id: string): string {
  return id.length <= 32 && /^[\w.:-]+$/.test(id) ? id : '(id not shown)';
}

/** The lease asked for does not exist (or is not the caller's to see). */
export class LeaseNotFoundError extends defineError('LeaseNotFoundError', 'LEASE_NOT_FOUND', LeaseError) {
  constructor(tokenId: string) {
    super(`lease not found: ${shownId(tokenId)}`);
  }
}

/** The caller may not act on this lease. */
export class NotAllowedError extends defineError('NotAllowedError', 'NOT_ALLOWED', LeaseError) {
  constructor(message: string) {
    super(`not allowed: ${message}`);
  }
}

/** A request is well-formed but not acceptable (ttl out of bounds, lease not renewable). */
export const InvalidRequestError = defineError('InvalidRequestError', 'INVALID_REQUEST', LeaseError);
export type InvalidRequestError = InstanceType<typeof InvalidRequestError>;

/** The caller is over one of its quotas (active leases, create rate, requests in flight). */
export class QuotaExceededError extends defineError('QuotaExceededError', 'QUOTA_EXCEEDED', LeaseError) {
  constructor(message: string) {
    super(`quota exceeded: ${message}`);
  }
}

/** The hub has more work waiting than it queues: try again later. */
export class HubBusyError extends defineError('HubBusyError', 'HUB_BUSY', LeaseError) {
  constructor(message: string) {
    super(`hub unavailable: ${message}`);
  }
}

/** Whether a caller is a member could not be found out (the member store is down): try again later. */
export class MembershipUnavailableError extends defineError('MembershipUnavailableError', 'MEMBERSHIP_UNAVAILABLE', LeaseError) {
  constructor(message: string) {
    super(`membership unavailable: ${message}`);
  }
}

import { LeaseError } from './errors.js';

/** A token id as it may appear in a message: ids are short; anything long might be a token, and is not repeated. */
export function shownId(id: string): string {
  return id.length <= 32 && /^[\w.:-]+$/.test(id) ? id : '(id not shown)';
}

/** The lease asked for does not exist (or is not the caller's to see). */
export class LeaseNotFoundError extends LeaseError {
  static override readonly name = 'LeaseNotFoundError';
  constructor(tokenId: string) {
    super('LEASE_NOT_FOUND', `lease not found: ${shownId(tokenId)}`);
    this.name = LeaseNotFoundError.name;
  }
}

/** The caller may not act on this lease. */
export class NotAllowedError extends LeaseError {
  static override readonly name = 'NotAllowedError';
  constructor(message: string) {
    super('NOT_ALLOWED', `not allowed: ${message}`);
    this.name = NotAllowedError.name;
  }
}

/** A request is well-formed but not acceptable (ttl out of bounds, lease not renewable). */
export class InvalidRequestError extends LeaseError {
  static override readonly name = 'InvalidRequestError';
  constructor(message: string) {
    super('INVALID_REQUEST', message);
    this.name = InvalidRequestError.name;
  }
}

/** The caller is over one of its quotas (active leases, create rate, requests in flight). */
export class QuotaExceededError extends LeaseError {
  static override readonly name = 'QuotaExceededError';
  constructor(message: string) {
    super('QUOTA_EXCEEDED', `quota exceeded: ${message}`);
    this.name = QuotaExceededError.name;
  }
}

/** The hub has more work waiting than it queues: try again later. */
export class HubBusyError extends LeaseError {
  static override readonly name = 'HubBusyError';
  constructor(message: string) {
    super('HUB_BUSY', `hub unavailable: ${message}`);
    this.name = HubBusyError.name;
  }
}

import { type FailureCode, LeaseError } from '@tessera/token-lease';

/**
 * Thrown when the hub could not be reached, or answered that a dependency is
 * unavailable, on every attempt up to the retry bound. The lease held before
 * stays current while it is valid; `cause` is the last attempt's error.
 */
export class LeaseUnavailableError extends LeaseError {
  static override readonly name = 'LeaseUnavailableError';
  /** Attempts made before giving up. */
  readonly attempts: number;
  constructor(message: string, attempts: number, options?: { cause?: unknown }) {
    super('LEASE_UNAVAILABLE', message, options);
    this.name = LeaseUnavailableError.name;
    this.attempts = attempts;
  }
}

/**
 * Thrown at once when the hub refuses a request for a reason retrying will not
 * mend (an invalid field, a TTL out of bounds, not allowed, a quota); `reason`
 * is the hub's code. `message` is the hub's own, which never holds a token.
 */
export class LeaseRejectedError extends LeaseError {
  static override readonly name = 'LeaseRejectedError';
  /** The action the hub refused. */
  readonly action: string;
  /** The hub's failure code (docs/protocol.md §4), e.g. `not_allowed`, `quota_exceeded`: what to decide on. */
  readonly reason: FailureCode;
  constructor(action: string, reason: FailureCode, message: string) {
    super('LEASE_REJECTED', message);
    this.name = LeaseRejectedError.name;
    this.action = action;
    this.reason = reason;
  }
}

/** Thrown when the hub's answer is not a lease API response (docs/protocol.md §4): a wrong route or a different peer. */
export class LeaseProtocolError extends LeaseError {
  static override readonly name = 'LeaseProtocolError';
  constructor(message: string, options?: { cause?: unknown }) {
    super('LEASE_PROTOCOL', message, options);
    this.name = LeaseProtocolError.name;
  }
}

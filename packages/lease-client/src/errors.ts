import { defineError } from '@tessera/core';
import { type FailureCode, LeaseError } from '@tessera/token-lease';

/**
 * Thrown when the hub could not be reached, or answered that a dependency is
 * unavailable, on every attempt up to the retry bound. The lease held before
 * stays current while it is valid; `cause` is the last attempt's error.
 */
export class LeaseUnavailableError extends defineError('LeaseUnavailableError', 'LEASE_UNAVAILABLE', LeaseError) {
  constructor(
    message: string,
    /** Attempts made before giving up. */
    readonly attempts: number,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/**
 * Thrown at once when the hub refuses a request for a reason retrying will not
 * mend (an invalid field, a TTL out of bounds, not allowed, a quota); `reason`
 * is the hub's code. `message` is the hub's own, which never holds a token.
 */
export class LeaseRejectedError extends defineError('LeaseRejectedError', 'LEASE_REJECTED', LeaseError) {
  constructor(
    /** The action the hub refused. */
    readonly action: string,
    /** The hub's failure code (docs/protocol.md §4), e.g. `not_allowed`, `quota_exceeded`: what to decide on. */
    readonly reason: FailureCode,
    message: string,
  ) {
    super(message);
  }
}

/** Thrown when the hub's answer is not a lease API response (docs/protocol.md §4): a wrong route or a different peer. */
export const LeaseProtocolError = defineError('LeaseProtocolError', 'LEASE_PROTOCOL', LeaseError);
export type LeaseProtocolError = InstanceType<typeof LeaseProtocolError>;

/**
 * The hub refused the enroll token (docs/protocol.md §6: expired, used up,
 * unknown, or presented by an identity that is a member already; the hub does
 * not say which). Final: the token is not sent again; ask for a new one.
 * The message never holds the token.
 */
export const EnrollmentRefusedError = defineError('EnrollmentRefusedError', 'ENROLLMENT_REFUSED', LeaseError);
export type EnrollmentRefusedError = InstanceType<typeof EnrollmentRefusedError>;

/** This identity is not a member of the hub (never enrolled, or removed), and no enroll token was given. */
export const NotEnrolledError = defineError('NotEnrolledError', 'NOT_ENROLLED', LeaseError);
export type NotEnrolledError = InstanceType<typeof NotEnrolledError>;

/** The hub's secure channel identity is not the one the client was told to trust (`hubIdentifier`). */
export const HubNotTrustedError = defineError('HubNotTrustedError', 'HUB_NOT_TRUSTED', LeaseError);
export type HubNotTrustedError = InstanceType<typeof HubNotTrustedError>;

import { describeError } from '@tessera/core';
import { CloudNotFoundError, CloudUnavailableError, InvalidOptionsError, LeaseError, StorageUnavailableError } from './errors.js';
import { HubBusyError, InvalidRequestError, LeaseNotFoundError, MembershipUnavailableError, NotAllowedError, QuotaExceededError } from './service-errors.js';

/** The `code` of a failure response (docs/protocol.md §4): what a program decides on. */
export const FAILURE_CODES = ['invalid_request', 'not_found', 'not_allowed', 'quota_exceeded', 'unavailable', 'internal'] as const;
export type FailureCode = (typeof FAILURE_CODES)[number];

/** A failure as it goes on the wire: the code for programs, the message for people. */
export interface Failure {
  code: FailureCode;
  message: string;
}

/**
 * The one place where errors become failure codes (docs/protocol.md §4). A
 * cloud that refuses what the hub decided (CloudRejectedError: a 4xx to the
 * operator's credentials) is the hub's fault, not the caller's: `internal`.
 */
export function failureOf(err: unknown): Failure {
  if (err instanceof InvalidRequestError || err instanceof InvalidOptionsError) return { code: 'invalid_request', message: err.message };
  if (err instanceof LeaseNotFoundError) return { code: 'not_found', message: err.message };
  // the cloud lost a token the hub still holds a lease for (renew): for the caller the lease is gone
  if (err instanceof CloudNotFoundError) return { code: 'not_found', message: err.message };
  if (err instanceof NotAllowedError) return { code: 'not_allowed', message: err.message };
  if (err instanceof QuotaExceededError) return { code: 'quota_exceeded', message: err.message };
  if (err instanceof HubBusyError || err instanceof MembershipUnavailableError) return { code: 'unavailable', message: err.message };
  if (err instanceof CloudUnavailableError) return { code: 'unavailable', message: `cloud unavailable: ${err.message}` };
  if (err instanceof StorageUnavailableError) return { code: 'unavailable', message: `storage unavailable: ${err.message}` };
  if (err instanceof LeaseError) return { code: 'internal', message: err.message };
  const { name, message } = describeError(err);
  return { code: 'internal', message: `internal error (${name}): ${message}` };
}

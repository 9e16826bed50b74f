import { describeError } from '@tessera/core';
import type { Failure } from '@tessera/token-lease';
import {
  AuthorityBusyError,
  AuthorityNotAllowedError,
  AuthorityQuotaError,
  InvalidAuthorityRequestError,
  MemberNotFoundError,
  MemberStoreFullError,
  MemberStoreUnavailableError,
} from './errors.js';

/** The one place where the authority's errors become failure codes (docs/protocol.md §4). */
export function failureOf(err: unknown): Failure {
  if (err instanceof InvalidAuthorityRequestError) return { code: 'invalid_request', message: `invalid request: ${err.message}` };
  if (err instanceof AuthorityNotAllowedError) return { code: 'not_allowed', message: err.message };
  if (err instanceof MemberNotFoundError) return { code: 'not_found', message: err.message };
  if (err instanceof AuthorityQuotaError) return { code: 'quota_exceeded', message: err.message };
  if (err instanceof MemberStoreUnavailableError || err instanceof MemberStoreFullError || err instanceof AuthorityBusyError) {
    return { code: 'unavailable', message: `unavailable: ${err.message}` };
  }
  const { name, message } = describeError(err);
  return { code: 'internal', message: `internal error (${name}): ${message}` };
}

import type { Failure } from '@tessera/token-lease';
import {
  AuthorityBusyError,
  AuthorityNotAllowedError,
  AuthorityQuotaError,
  InvalidAuthorityRequestError,
  MemberNotFoundError,
  MemberStoreUnavailableError,
} from './errors.js';

/** The answer while the member store cannot serve: fixed, whoever asks (what the store said goes to the hub's log only). */
export const STORE_UNAVAILABLE: Failure = { code: 'unavailable', message: 'unavailable: the member store cannot serve now; try again later' };

/** The answer to a failure nobody foresaw: fixed, the detail is in the hub's log. */
export const INTERNAL_FAILURE: Failure = { code: 'internal', message: "internal error: the authority failed; the hub's log says why" };

/**
 * The one place where the authority's errors become failure codes (docs/protocol.md §4).
 * Only the authority's own wording is answered: a store's error (ioredis' text,
 * a snapshot's path) or an unforeseen one gets a fixed message, and the
 * caller — member or not — learns nothing about the hub's insides.
 */
export function failureOf(err: unknown): Failure {
  if (err instanceof InvalidAuthorityRequestError) return { code: 'invalid_request', message: `invalid request: ${err.message}` };
  if (err instanceof AuthorityNotAllowedError) return { code: 'not_allowed', message: err.message };
  if (err instanceof MemberNotFoundError) return { code: 'not_found', message: err.message };
  if (err instanceof AuthorityQuotaError) return { code: 'quota_exceeded', message: err.message };
  if (err instanceof AuthorityBusyError) return { code: 'unavailable', message: `unavailable: ${err.message}` };
  if (err instanceof MemberStoreUnavailableError) return { ...STORE_UNAVAILABLE };
  return { ...INTERNAL_FAILURE };
}

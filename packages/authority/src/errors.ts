import { defineError, TesseraError } from '@tessera/core';

/** Base of the authority's errors: `code` says which condition, failureOf turns it into a §4 failure code. */
export class AuthorityError extends TesseraError {
  static override readonly name: string = 'AuthorityError';
}

/** Options given to memoryMemberStore, redisMemberStore or Authority are wrong. */
export const InvalidAuthorityOptionsError = defineError('InvalidAuthorityOptionsError', 'INVALID_OPTIONS', AuthorityError);
export type InvalidAuthorityOptionsError = InstanceType<typeof InvalidAuthorityOptionsError>;

/** A request (or createToken's options) is well-formed JSON but not acceptable. */
export const InvalidAuthorityRequestError = defineError('InvalidAuthorityRequestError', 'INVALID_REQUEST', AuthorityError);
export type InvalidAuthorityRequestError = InstanceType<typeof InvalidAuthorityRequestError>;

/** The caller may not do this (no secure channel, not a member, not an admin, a token that does not redeem). */
export class AuthorityNotAllowedError extends defineError('AuthorityNotAllowedError', 'NOT_ALLOWED', AuthorityError) {
  constructor(message: string) {
    super(`not allowed: ${message}`);
  }
}

/** `remove` named an identifier that is not a member. */
export class MemberNotFoundError extends defineError('MemberNotFoundError', 'MEMBER_NOT_FOUND', AuthorityError) {
  constructor(identifier: string) {
    super(`no such member: ${identifier}`);
  }
}

/** The caller has too many requests in flight, or the store holds as many outstanding tokens as it may. */
export class AuthorityQuotaError extends defineError('AuthorityQuotaError', 'QUOTA_EXCEEDED', AuthorityError) {
  constructor(message: string) {
    super(`quota exceeded: ${message}`);
  }
}

/** The member store cannot serve now (Redis down, a snapshot that cannot be read, a closed store); try again later. */
export const MemberStoreUnavailableError = defineError('MemberStoreUnavailableError', 'MEMBER_STORE_UNAVAILABLE', AuthorityError);
export type MemberStoreUnavailableError = InstanceType<typeof MemberStoreUnavailableError>;

/** The authority has more requests in flight than it takes: try again later. */
export const AuthorityBusyError = defineError('AuthorityBusyError', 'AUTHORITY_BUSY', AuthorityError);
export type AuthorityBusyError = InstanceType<typeof AuthorityBusyError>;

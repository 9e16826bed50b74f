export * from './errors.js';
export { ADMIN_ATTRIBUTE, ATTRIBUTE_LIMITS, AttributesSchema, type Member, type Membership } from './member.js';
export { newBootstrapToken, tokenHash, tokenReference, TOKEN_BYTES } from './bootstrap-token.js';
export {
  DEFAULT_MEMBER_STORE_LIMITS,
  type MemberPage,
  type MemberStore,
  type MemberStoreLimits,
  type Redemption,
  type RefusalReason,
  type TokenRecord,
} from './member-store.js';
export { memoryMemberStore, type MemoryMemberStoreOptions } from './memory-member-store.js';
export { redisMemberStore, type RedisMemberStoreOptions } from './redis-member-store.js';
export { AUTHORITY_ACTIONS, TOKEN_LIMITS, type AuthorityRequest } from './authority-request.js';
export type { AuthorityResponse } from './authority-response.js';
export { Authority, MAX_CREDENTIAL_TTL, MEMBERS_PAGE, type AuthorityEvents, type AuthorityOptions } from './authority.js';
export { InFlight, type Admission as InFlightAdmission } from './in-flight.js';

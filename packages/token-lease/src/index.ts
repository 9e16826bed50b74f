export * from './lease.js';
export * from './errors.js';
export * from './service-errors.js';
export type * from './cloud-service.js';
export type * from './storage-service.js';
export { memoryStorage, type MemoryStorageOptions } from './memory-storage.js';
export { ttlPolicy, grantedTtl, TtlPolicySchema, type TtlPolicy, type TtlPolicyInput } from './ttl-policy.js';
export { parseLeaseRequest, LeaseRequestSchema, ACTIONS, type LeaseRequest } from './lease-request.js';
export type { LeaseResponse } from './lease-response.js';
export { FAILURE_CODES, failureOf, type Failure, type FailureCode } from './failure-code.js';
export {
  AccessSchema,
  decidePrivileges,
  leaseGrant,
  privilegesOf,
  ResourceGrantSchema,
  staticGrant,
  type Access,
  type GrantPolicy,
  type LeaseGrant,
  type Privilege,
  type RequestedPrivilege,
  type ResourceGrant,
} from './grant.js';
export { FairScheduler, type FairSchedulerLimits } from './fair-scheduler.js';
export { CreateRateLimiter } from './create-rate.js';
export { IdentityRequestBudget } from './identity-request-budget.js';
export { ActiveLeases, type Reservation } from './active-leases.js';
export { LeaseService, type Caller, type LeaseServiceEvents, type LeaseServiceOptions, type LeaseServiceStats } from './lease-service.js';
export { DEFAULT_OWNER_QUOTAS, callerQuotasOf, type CallerQuotas, type OwnerQuotas } from './owner-quotas.js';
export {
  TokenLeaseWorker,
  DEFAULT_IDENTITY_REQUEST_RATE,
  DEFAULT_MEMBERSHIP_LOOKUPS,
  DEFAULT_WORKER_LIMITS,
  IDENTITY_OVER_BUDGET,
  SECURE_CHANNEL_REQUIRED,
  type MemberStanding,
  type MembershipLookup,
  type TokenLeaseWorkerOptions,
} from './token-lease-worker.js';
export {
  LeasePoliciesSchema,
  LeasePolicySchema,
  PolicyPrivilegeSchema,
  PolicyQuotasSchema,
  PolicyTtlSchema,
  POLICY_LIMITS,
  parseLeasePolicies,
  type LeasePolicies,
  type LeasePoliciesInput,
  type LeasePolicy,
  type LeasePolicyInput,
} from './policy/policy-schema.js';
export { leaseDecisions, type HubLeaseDefaults, type LeaseDecider, type LeaseDecision } from './policy/lease-decisions.js';
export { LatenessRecorder } from './lateness.js';
export { DEFAULT_REVOCATION_BACKOFF } from './revoker.js';
export type { ExpirySchedulerOptions } from './expiry-scheduler.js';
// the atomic writer lives in @tessera/core (influxdb-local uses it too); re-exported for existing users
export { writeFileAtomic, LatestWriter, SECRET_MODE } from '@tessera/core';

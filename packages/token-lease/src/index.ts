export * from './lease.js';
export * from './errors.js';
export * from './service-errors.js';
export type * from './cloud-service.js';
export type * from './storage-service.js';
export { memoryStorage, type MemoryStorageOptions } from './memory-storage.js';
export { ttlPolicy, grantedTtl, TtlPolicySchema, type TtlPolicy, type TtlPolicyInput } from './ttl-policy.js';
export { parseLeaseRequest, LeaseRequestSchema, ACTIONS, type LeaseRequest } from './lease-request.js';
export type { LeaseResponse } from './lease-response.js';
export { LeaseService, type Caller, type LeaseServiceEvents, type LeaseServiceOptions, type LeaseServiceStats } from './lease-service.js';
export { TokenLeaseWorker, type TokenLeaseWorkerOptions } from './token-lease-worker.js';
export { LatenessRecorder } from './lateness.js';
export { DEFAULT_REVOCATION_BACKOFF } from './revoker.js';
export type { ExpirySchedulerOptions } from './expiry-scheduler.js';
// the atomic writer lives in @tessera/core (influxdb-local uses it too); re-exported for existing users
export { writeFileAtomic, LatestWriter, SECRET_MODE } from '@tessera/core';

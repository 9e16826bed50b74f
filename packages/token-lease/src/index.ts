export * from './lease.js';
export * from './errors.js';
export type * from './cloud-service.js';
export type * from './storage-service.js';

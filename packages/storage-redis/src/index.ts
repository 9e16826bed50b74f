export { redisStorage, type RedisStorage, type RedisStorageStatus } from './redis-storage.js';
export type { RedisStorageOptions, StorageLogger } from './options.js';
export { namespaceTag } from './keys.js';

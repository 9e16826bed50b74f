export { redisStorage, type RedisStorage, type RedisStorageStatus } from './redis-storage.js';
export { redisClient, type RedisStorageOptions, type StorageLogger } from './options.js';
export { parseRedisSpec, type RedisSpec, type RedisSpecEnv } from './storage-spec.js';
export { namespaceTag } from './keys.js';

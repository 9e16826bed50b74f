export { freePort } from './free-port.js';
export { startInfluxd, findInfluxd, InfluxdMissingError, type RunningInfluxd, type StartInfluxdOptions } from './influxd.js';
export { cloudServiceSuite, type CloudServiceSuiteContext, type FailingService } from './cloud-service-suite.js';
export { startRedisServer, type RedisServer, type RedisServerOptions } from './redis-server.js';
export { storageServiceSuite, leaseRecord, type StorageServiceSuiteSetup } from './storage-service-suite.js';
export { writeStatus, type WriteTarget } from './write-status.js';
export { rejection, waitUntil } from './wait.js';

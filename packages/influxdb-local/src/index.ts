/**
 * @tessera/influxdb-local: an InfluxDB-v2-API-compatible HTTP server for development,
 * tests and demos. The official InfluxDB clients work against it as against InfluxDB 2.7
 * for orgs, buckets, authorizations and writes; what was written can be read back.
 */
export { startInfluxdbLocal, type InfluxdbLocal, type PointQuery } from './server.js';
export { InfluxdbLocalOptionsError, type AccessLogEntry, type InfluxdbLocalOptions } from './options.js';
export { PersistFileError } from './persistence.js';
export type { LocalPoint } from './points.js';
export { runInfluxdbLocalCli, type CliIo } from './cli.js';

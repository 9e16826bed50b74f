export { influxdbV2, type InfluxdbV2Components } from './v2/service.js';
export { InfluxdbV2OptionsSchema, PermissionSchema, type InfluxdbV2Options, type BucketPermission } from './v2/options.js';
export { influxdbV1, type InfluxdbV1Components } from './v1/service.js';
export { InfluxdbV1OptionsSchema, GrantSchema, type InfluxdbV1Options, type Grant } from './v1/options.js';
export { quoteIdentifier, quoteString } from './influxql.js';
export { DeploymentSchema, DEFAULT_DEPLOYMENT } from './deployment.js';

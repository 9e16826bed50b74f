/** The InfluxDB version this server answers as (the API it follows), in /health and /ping. */
export const INFLUXDB_VERSION = 'v2.7.11';
/** What /health gives as the commit: says which server this really is. */
export const COMMIT = 'tessera-influxdb-local';

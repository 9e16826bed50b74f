/**
 * @tessera/device: a device node that gets short-lived InfluxDB tokens
 * from a Tessera hub, writes a metric every interval, and on a 401/403 reports
 * the lease, swaps the token and replays what failed: no point is lost to a
 * revocation.
 */
export { startDevice, Device } from './device.js';
export type { DeviceEvents, DeviceStats, DeviceStopOptions, LeaseInfo } from './events.js';
export { DeviceOptionsSchema, leaseRoute, resolveDeviceOptions, type DeviceOptions, type ResolvedDeviceOptions } from './options.js';
export { DeviceOptionsError } from './errors.js';
export { toLine, type DevicePoint } from './line.js';
export { runDeviceCli, type DeviceCliIo } from './cli.js';

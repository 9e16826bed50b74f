import { defineError } from '@tessera/core';

/** Thrown by `startDevice` (and the command line) when the options are not valid; the message says which and why. */
export const DeviceOptionsError = defineError('DeviceOptionsError', 'DEVICE_OPTIONS');
export type DeviceOptionsError = InstanceType<typeof DeviceOptionsError>;

import { defineError } from '@tessera/core';

/** A setting is missing, malformed or out of range; the message names it and where it came from. */
export const SettingsError = defineError('SettingsError', 'INVALID_SETTINGS');
export type SettingsError = InstanceType<typeof SettingsError>;

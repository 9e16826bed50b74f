/** A setting is missing, malformed or out of range; the message names it and where it came from. */
export class SettingsError extends Error {
  readonly code = 'INVALID_SETTINGS';
  constructor(message: string) {
    super(message);
    this.name = 'SettingsError';
  }
}

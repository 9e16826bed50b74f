/** Thrown by `startDevice` (and the command line) when the options are not valid; the message says which and why. */
export class DeviceOptionsError extends Error {
  static override readonly name = 'DeviceOptionsError';
  readonly code = 'DEVICE_OPTIONS';
  constructor(message: string) {
    super(message);
    this.name = DeviceOptionsError.name;
  }
}

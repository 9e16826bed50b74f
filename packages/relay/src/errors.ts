import { defineError, TesseraError } from '@tessera/core';

/** Base of the relay's errors. */
export class RelayError extends TesseraError {
  static override readonly name: string = 'RelayError';
}

/** Options given to RelayService or createRelay are wrong (a name that does not match the pattern, say). */
export const InvalidRelayOptionsError = defineError('InvalidRelayOptionsError', 'INVALID_OPTIONS', RelayError);
export type InvalidRelayOptionsError = InstanceType<typeof InvalidRelayOptionsError>;

/** The relay was closed before it was first registered: `registered()` will never resolve. */
export const RelayClosedError = defineError('RelayClosedError', 'RELAY_CLOSED', RelayError);
export type RelayClosedError = InstanceType<typeof RelayClosedError>;

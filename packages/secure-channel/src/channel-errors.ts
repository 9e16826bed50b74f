import { SecureChannelError } from './errors.js';

/** One error class per condition of a running channel, with its name and stable code (built like errors.ts's). */
function define(name: string, code: string) {
  const cls = class extends SecureChannelError {
    static readonly code = code;
    constructor(message: string, options?: { cause?: unknown }) {
      super(code, message, options);
      this.name = name;
    }
  };
  Object.defineProperty(cls, 'name', { value: name });
  return cls;
}

/** The peer did not finish the handshake within the timeout. */
export const HandshakeTimeoutError = define('HandshakeTimeoutError', 'HANDSHAKE_TIMEOUT');
export type HandshakeTimeoutError = InstanceType<typeof HandshakeTimeoutError>;
/** The channel is closed (by either side): nothing more goes through it. */
export const ChannelClosedError = define('ChannelClosedError', 'CHANNEL_CLOSED');
export type ChannelClosedError = InstanceType<typeof ChannelClosedError>;
/** The first handshake message could not be sent (no route to the listener). */
export const HandshakeUnreachableError = define('HandshakeUnreachableError', 'HANDSHAKE_UNREACHABLE');
export type HandshakeUnreachableError = InstanceType<typeof HandshakeUnreachableError>;

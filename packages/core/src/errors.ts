/**
 * Base of every runtime error: `code` is stable and meant for programs,
 * `name` is the class name (it survives two copies of the package).
 */
export class TesseraError extends Error {
  readonly code: string;
  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
    this.name = 'TesseraError';
  }
}

function define(name: string, code: string) {
  const cls = class extends TesseraError {
    static readonly code = code;
    constructor(message: string, options?: { cause?: unknown }) {
      super(code, message, options);
      this.name = name;
    }
  };
  Object.defineProperty(cls, 'name', { value: name });
  return cls;
}

/** A request got no reply within its timeout. */
export const TimeoutError = define('TimeoutError', 'TIMEOUT');
export type TimeoutError = InstanceType<typeof TimeoutError>;
/** A LOCAL address names no worker on this node. */
export const UnknownAddressError = define('UnknownAddressError', 'UNKNOWN_ADDRESS');
export type UnknownAddressError = InstanceType<typeof UnknownAddressError>;
/** No transport is registered for an address type. */
export const NoTransportError = define('NoTransportError', 'NO_TRANSPORT');
export type NoTransportError = InstanceType<typeof NoTransportError>;
/** A worker's mailbox is full and its policy refused the message. */
export const MailboxFullError = define('MailboxFullError', 'MAILBOX_FULL');
export type MailboxFullError = InstanceType<typeof MailboxFullError>;
/** The address's access policy refused the message (see IncomingAccess). */
export const AccessDeniedError = define('AccessDeniedError', 'ACCESS_DENIED');
export type AccessDeniedError = InstanceType<typeof AccessDeniedError>;
/** The node, worker or connection is stopping or stopped. */
export const ClosedError = define('ClosedError', 'CLOSED');
export type ClosedError = InstanceType<typeof ClosedError>;
/** Bytes from a peer are not a valid transport message. */
export const InvalidFrameError = define('InvalidFrameError', 'INVALID_FRAME');
export type InvalidFrameError = InstanceType<typeof InvalidFrameError>;
/** An address or route (or its text form) is malformed. */
export const InvalidAddressError = define('InvalidAddressError', 'INVALID_ADDRESS');
export type InvalidAddressError = InstanceType<typeof InvalidAddressError>;
/** A worker is already registered at that address. */
export const AddressInUseError = define('AddressInUseError', 'ADDRESS_IN_USE');
export type AddressInUseError = InstanceType<typeof AddressInUseError>;
/** Messages for a connection that is down exceeded its queue. */
export const QueueFullError = define('QueueFullError', 'QUEUE_FULL');
export type QueueFullError = InstanceType<typeof QueueFullError>;
/** A connection could not be made or was lost. */
export const ConnectionError = define('ConnectionError', 'CONNECTION_FAILED');
export type ConnectionError = InstanceType<typeof ConnectionError>;

/**
 * Base of every Tessera error: `code` is stable and meant for programs, `name`
 * is the class name (programs may match on it: it survives two copies of a
 * package). A family whose code varies per throw (LeaseError, ApiError) is a
 * class extending this one; each condition is made with `defineError`.
 */
export class TesseraError extends Error {
  static override readonly name: string = 'TesseraError';
  readonly code: string;
  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
    this.name = new.target.name;
  }
}

/** A class whose constructor takes the code first: TesseraError or a family below it. */
export type ErrorBase<Rest extends unknown[], E extends TesseraError> = new (code: string, ...rest: Rest) => E;

/** What `defineError` returns: the base's constructor without the code, a fixed `name` and a static `code`. */
export interface DefinedError<Rest extends unknown[], E extends TesseraError, C extends string> {
  new (...rest: Rest): E & { readonly code: C };
  readonly prototype: E;
  readonly code: C;
}

/**
 * One error class per condition: a subclass of `Base` (default TesseraError)
 * named `name`, whose instances and class carry `code`. Its constructor is the
 * base's without the code argument, so `instanceof` chains and extra fields of
 * the base (a status, say) stay.
 */
export function defineError<C extends string, Rest extends unknown[] = [message: string, options?: { cause?: unknown }], E extends TesseraError = TesseraError>(
  name: string,
  code: C,
  Base?: ErrorBase<Rest, E>,
): DefinedError<Rest, E, C> {
  const Parent = (Base ?? TesseraError) as unknown as ErrorBase<Rest, E>;
  const cls = class extends (Parent as new (code: string, ...rest: Rest) => TesseraError) {
    static readonly code = code;
    constructor(...rest: Rest) {
      super(code, ...rest);
    }
  };
  Object.defineProperty(cls, 'name', { value: name });
  return cls as unknown as DefinedError<Rest, E, C>;
}

/** A request got no reply within its timeout. */
export const TimeoutError = defineError('TimeoutError', 'TIMEOUT');
export type TimeoutError = InstanceType<typeof TimeoutError>;
/** A LOCAL address names no worker on this node. */
export const UnknownAddressError = defineError('UnknownAddressError', 'UNKNOWN_ADDRESS');
export type UnknownAddressError = InstanceType<typeof UnknownAddressError>;
/** No transport is registered for an address type. */
export const NoTransportError = defineError('NoTransportError', 'NO_TRANSPORT');
export type NoTransportError = InstanceType<typeof NoTransportError>;
/** A worker's mailbox is full and its policy refused the message. */
export const MailboxFullError = defineError('MailboxFullError', 'MAILBOX_FULL');
export type MailboxFullError = InstanceType<typeof MailboxFullError>;
/** The address's access policy refused the message (see IncomingAccess). */
export const AccessDeniedError = defineError('AccessDeniedError', 'ACCESS_DENIED');
export type AccessDeniedError = InstanceType<typeof AccessDeniedError>;
/** The node, worker or connection is stopping or stopped. */
export const ClosedError = defineError('ClosedError', 'CLOSED');
export type ClosedError = InstanceType<typeof ClosedError>;
/** Bytes from a peer are not a valid transport message. */
export const InvalidFrameError = defineError('InvalidFrameError', 'INVALID_FRAME');
export type InvalidFrameError = InstanceType<typeof InvalidFrameError>;
/** An address or route (or its text form) is malformed. */
export const InvalidAddressError = defineError('InvalidAddressError', 'INVALID_ADDRESS');
export type InvalidAddressError = InstanceType<typeof InvalidAddressError>;
/** A worker is already registered at that address. */
export const AddressInUseError = defineError('AddressInUseError', 'ADDRESS_IN_USE');
export type AddressInUseError = InstanceType<typeof AddressInUseError>;
/** Messages for a connection that is down exceeded its queue. */
export const QueueFullError = defineError('QueueFullError', 'QUEUE_FULL');
export type QueueFullError = InstanceType<typeof QueueFullError>;
/** A connection could not be made or was lost. */
export const ConnectionError = defineError('ConnectionError', 'CONNECTION_FAILED');
export type ConnectionError = InstanceType<typeof ConnectionError>;

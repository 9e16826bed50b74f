import type { Route } from './route.js';

/** What the receiving node knows about a message; never crosses the wire. */
export interface LocalInfo {
  /** The LOCAL address of the connection the message arrived on, if it came from a peer. */
  readonly connection?: string;
  /** The authenticated identity of the sender, once a secure channel vouches for it. */
  readonly identity?: string;
  /** The attributes of the channel peer's valid credentials (docs/protocol.md §6); set only with `identity`. */
  readonly attributes?: Readonly<Record<string, string>>;
  /**
   * Set by a secure channel end made with `forwarding: true`: what its peer sent may go on to
   * other peers (a connection's address accepts a message with an `identity` only then).
   */
  readonly forwardable?: boolean;
}

/** A routed message: where it still has to go, how to answer, and its bytes. */
export interface Message {
  readonly onward: Route;
  readonly return: Route;
  readonly payload: Uint8Array;
  readonly local: LocalInfo;
}

export const NO_LOCAL_INFO: LocalInfo = Object.freeze({});

const encoder = new TextEncoder();
const decoder = new TextDecoder('utf-8', { fatal: true });

/** UTF-8 bytes of a string. */
export function utf8(text: string): Uint8Array {
  return encoder.encode(text);
}

/** The string in UTF-8 bytes; throws a TypeError on invalid UTF-8. */
export function fromUtf8(bytes: Uint8Array): string {
  return decoder.decode(bytes);
}

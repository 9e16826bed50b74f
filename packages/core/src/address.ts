import { z } from 'zod';
import { InvalidAddressError } from './errors.js';

/** Address types of docs/protocol.md §1. 16..63 are for add-ons, 64..255 for users. */
export const LOCAL = 0;
export const TCP = 1;
export const UDP = 2;
export const WS = 3;

/** An address: a type (0..255) and a value (a worker name, `host:port`, a URL...). */
export interface Address {
  readonly type: number;
  readonly value: string;
}

export const AddressSchema = z
  .object({ type: z.number().int().min(0).max(255), value: z.string() })
  .readonly();

/** Makes an address, checking the type is 0..255. */
export function address(type: number, value: string): Address {
  if (!Number.isInteger(type) || type < 0 || type > 255) {
    throw new InvalidAddressError(`address type must be an integer 0..255, got ${String(type)}`);
  }
  if (typeof value !== 'string') throw new InvalidAddressError('address value must be a string');
  return Object.freeze({ type, value });
}

/** A LOCAL address: a worker on the node that holds the message. */
export function local(name: string): Address {
  return address(LOCAL, name);
}

/** A WS address: `host:port` or a full ws:// or wss:// URL. */
export function ws(hostPortOrUrl: string): Address {
  return address(WS, hostPortOrUrl);
}

const TYPED = /^(\d{1,3})#/;

/** Parses the text form `TYPE#VALUE`; a string without a type prefix (0..255) is a LOCAL address. */
export function parseAddress(text: string): Address {
  if (typeof text !== 'string' || text.length === 0) {
    throw new InvalidAddressError('an address must be a non-empty string');
  }
  const m = TYPED.exec(text);
  if (m !== null) {
    const type = Number(m[1]);
    if (type <= 255) return address(type, text.slice(m[0].length));
  }
  return local(text);
}

/** The text form `TYPE#VALUE` (`0#echo`, `3#127.0.0.1:4000`). */
export function formatAddress(a: Address): string {
  return `${a.type}#${a.value}`;
}

export function addressEquals(a: Address, b: Address): boolean {
  return a.type === b.type && a.value === b.value;
}

/** Accepts an address or its text form. */
export function toAddress(a: Address | string): Address {
  return typeof a === 'string' ? parseAddress(a) : a;
}

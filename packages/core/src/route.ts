import { type Address, addressEquals, formatAddress, parseAddress, toAddress } from './address.js';

/** An ordered list of addresses; the head is the next hop. */
export type Route = readonly Address[];

/** Makes a route from addresses or their text forms. */
export function route(...hops: (Address | string)[]): Route {
  return Object.freeze(hops.map(toAddress));
}

const SEPARATOR = '=>';

/** Parses `3#host:4000 => echo` (hops separated by `=>`). */
export function parseRoute(text: string): Route {
  return route(...text.split(SEPARATOR).map((part) => parseAddress(part.trim())));
}

/** The text form of a route: hops separated by ` => `. */
export function formatRoute(r: Route): string {
  return r.map(formatAddress).join(` ${SEPARATOR} `);
}

export function routeEquals(a: Route, b: Route): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (!addressEquals(a[i]!, b[i]!)) return false;
  return true;
}

/** Accepts a route, a single address, or a text form of either. */
export function toRoute(r: Route | Address | string): Route {
  if (typeof r === 'string') return parseRoute(r);
  if (Array.isArray(r)) return r as Route;
  return [r as Address];
}

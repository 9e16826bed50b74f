import { InvalidAddressError, parseRoute, route, type Route, WS } from '@tessera/core';

/**
 * The route to a hub's lease worker from `--hub`: `ws://host:port`,
 * `wss://…`, `host:port`, or a whole route (`3#host:port => token_lease`).
 */
export function hubRoute(hub: string, worker = 'token_lease'): Route {
  const text = hub.trim();
  if (text.includes('=>')) return parseRoute(text);
  if (/^wss?:\/\//i.test(text) || /^[^\s#/]+:\d{1,5}$/.test(text) || text.startsWith('[')) {
    return route({ type: WS, value: text.replace(/\/+$/, '') }, worker);
  }
  if (/^3#/.test(text)) return route(text, worker);
  throw new InvalidAddressError(`--hub takes ws://host:port, host:port or a route, got "${hub}"`);
}

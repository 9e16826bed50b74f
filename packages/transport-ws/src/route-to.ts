import { InvalidAddressError, parseRoute, route, type Route, WS } from '@tessera/core';

/**
 * The route to a worker on a peer, from what a user types: `ws://host:port`,
 * `wss://host:port`, `host:port`, `3#host:port`, or a whole route
 * (`3#a:1 => 3#b:2 => token_lease`, taken as it is).
 */
export function routeTo(target: string, worker: string): Route {
  const text = target.trim();
  if (text.includes('=>')) return parseRoute(text);
  if (text.startsWith('3#')) return route(text, worker);
  const isUrl = /^wss?:\/\/[^\s/]+\/*$/i.test(text);
  const isHostPort = /^(\[[0-9a-f:.]+\]|[^\s:/#[\]]+):\d{1,5}$/i.test(text);
  if (!isUrl && !isHostPort) throw new InvalidAddressError(`expected ws://host:port, host:port or a route, got ${JSON.stringify(target)}`);
  return route({ type: WS, value: text.replace(/\/+$/, '') }, worker);
}

import type { Address, Route } from '@tessera/core';
import { InvalidPlaintextError } from '../errors.js';
import { isCredentialList, MAX_CREDENTIALS, MAX_CREDENTIAL_LENGTH } from '../handshake/payload.js';
import { asBuffer, pack, unpackOrUndefined } from '../msgpack.js';

/** Messages one batch (kind 3) may hold; a sender flushes before this many (this implementation: 512). */
export const MAX_BATCH_MESSAGES = 1_024;

/**
 * Addresses one route may hold: the WebSocket transport's bound on a frame's
 * routes (its default maxRouteLength), so a channel carries no route a
 * connection would refuse, and one plaintext cannot make its receiver decode
 * addresses without end.
 */
export const MAX_ROUTE_LENGTH = 32;

/** Plaintext kinds of docs/protocol.md §5. */
export const MESSAGE = 0;
export const CLOSE = 1;
export const CREDENTIALS = 2;
export const BATCH = 3;

/** A message carried through a channel: routed on the receiving node with these routes. */
export interface ChannelMessage {
  readonly onward: Route;
  readonly return: Route;
  readonly payload: Uint8Array;
}

/** A decrypted channel plaintext. */
export type Plaintext =
  | { readonly kind: 'message'; readonly message: ChannelMessage }
  | { readonly kind: 'close' }
  | { readonly kind: 'credentials'; readonly credentials: readonly string[] }
  | { readonly kind: 'batch'; readonly messages: readonly ChannelMessage[] };

type WireAddress = [number, string];

/** The MessagePack bytes of a plaintext: `[0, onward, return, payload]`, `[1]`, `[2, credentials]` or `[3, [[onward, return, payload], ...]]`. */
export function encodePlaintext(plaintext: Plaintext): Buffer {
  switch (plaintext.kind) {
    case 'message': {
      const m = plaintext.message;
      return pack([MESSAGE, wireRoute(m.onward), wireRoute(m.return), asBuffer(m.payload)]);
    }
    case 'close':
      return pack([CLOSE]);
    case 'credentials':
      if (!isCredentialList(plaintext.credentials)) throw new InvalidPlaintextError(credentialsRule);
      return pack([CREDENTIALS, plaintext.credentials]);
    case 'batch':
      return pack([BATCH, plaintext.messages.map((m) => [wireRoute(m.onward), wireRoute(m.return), asBuffer(m.payload)])]);
  }
}

const credentialsRule = `credentials are at most ${MAX_CREDENTIALS} strings of at most ${MAX_CREDENTIAL_LENGTH} characters`;

/** Decodes a plaintext and checks its shape strictly; throws InvalidPlaintextError (whose message never quotes the data). */
export function decodePlaintext(bytes: Uint8Array): Plaintext {
  const value = unpackOrUndefined(bytes);
  if (!Array.isArray(value) || value.length === 0) throw new InvalidPlaintextError('a plaintext is a non-empty MessagePack array');
  const kind: unknown = value[0];
  if (kind === MESSAGE && value.length === 4) {
    return { kind: 'message', message: messageOf(value.slice(1)) };
  }
  if (kind === CLOSE && value.length === 1) return { kind: 'close' };
  if (kind === CREDENTIALS && value.length === 2) {
    const credentials: unknown = value[1];
    if (!isCredentialList(credentials)) throw new InvalidPlaintextError(credentialsRule);
    return { kind: 'credentials', credentials };
  }
  if (kind === BATCH && value.length === 2) {
    const items: unknown = value[1];
    if (!Array.isArray(items)) throw new InvalidPlaintextError('a batch holds an array of messages');
    // one ciphertext must not make the receiver route without end in one turn of its loop
    if (items.length > MAX_BATCH_MESSAGES) throw new InvalidPlaintextError(`a batch holds at most ${MAX_BATCH_MESSAGES} messages`);
    return { kind: 'batch', messages: items.map(messageOf) };
  }
  throw new InvalidPlaintextError('unknown plaintext kind or wrong number of items');
}

function messageOf(item: unknown): ChannelMessage {
  if (!Array.isArray(item) || item.length !== 3) throw new InvalidPlaintextError('a message is [onward, return, payload]');
  const [onward, back, payload] = item as unknown[];
  if (!Buffer.isBuffer(payload)) throw new InvalidPlaintextError('a message payload must be MessagePack bin');
  return { onward: routeOf(onward), return: routeOf(back), payload };
}

function routeOf(value: unknown): Route {
  if (!Array.isArray(value)) throw new InvalidPlaintextError('a route is an array of addresses');
  if (value.length > MAX_ROUTE_LENGTH) throw new InvalidPlaintextError(`a route holds at most ${MAX_ROUTE_LENGTH} addresses`);
  const route = new Array<Address>(value.length);
  for (let i = 0; i < value.length; i++) {
    const a: unknown = value[i];
    if (!Array.isArray(a) || a.length !== 2) throw new InvalidPlaintextError('an address is [type, value]');
    const [type, text] = a as unknown[];
    if (typeof type !== 'number' || !Number.isInteger(type) || type < 0 || type > 255 || typeof text !== 'string') {
      throw new InvalidPlaintextError('an address is [uint 0..255, str]');
    }
    route[i] = { type, value: text };
  }
  return route;
}

function wireRoute(route: Route): WireAddress[] {
  return route.map((a) => [a.type, a.value]);
}


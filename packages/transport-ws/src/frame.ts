import { type Address, InvalidFrameError, type Route } from '@tessera/core';
import { Packr, Unpackr } from 'msgpackr';
import { z } from 'zod';

/**
 * docs/protocol.md §3: one transport message is the MessagePack array
 * `[version, onward, return, payload]`; addresses are `[uint, str]`, the
 * payload is `bin`. Standard MessagePack only: no records, no extensions.
 */
export const PROTOCOL_VERSION = 1;

const WireAddressSchema = z.tuple([z.number().int().min(0).max(255), z.string()]);
const WireRouteSchema = z.array(WireAddressSchema);

/** The frame schema: the one definition of a valid transport message. */
export const FrameSchema = z.tuple([
  z.literal(PROTOCOL_VERSION),
  WireRouteSchema,
  WireRouteSchema,
  // `bin` decodes to a Buffer; msgpackr's typed-array extension would decode to a bare Uint8Array, and is refused
  z.custom<Buffer>((v) => Buffer.isBuffer(v), 'payload must be MessagePack bin'),
]);

/** A decoded frame: routes as address objects, the payload as bytes. */
export interface Frame {
  onward: Route;
  return: Route;
  payload: Uint8Array;
}

const packr = new Packr({ useRecords: false, variableMapSize: true });
const unpackr = new Unpackr({ useRecords: false, mapsAsObjects: false });

const HEAD = 0x94; // fixarray of 4
const EMPTY_ROUTE = Buffer.from([0x90]);

/**
 * Encodes a frame: `onward` from index `from` on (a sender pops its own hop),
 * `back` whole, the payload as MessagePack `bin`. The routes are packed by
 * msgpackr, once per frozen route; the envelope around them is four fixed
 * pieces, so a message costs one small buffer and one payload copy.
 */
export function encodeFrame(onward: Route, back: Route, payload: Uint8Array, from = 0): Buffer {
  const o = routeBytes(onward, from);
  const r = routeBytes(back, 0);
  const n = payload.length;
  const binHeader = n < 0x100 ? 2 : n < 0x10000 ? 3 : 5;
  const out = frameBuffer(2 + o.length + r.length + binHeader + n);
  out[0] = HEAD;
  out[1] = PROTOCOL_VERSION;
  let at = 2;
  at += o.copy(out, at);
  at += r.copy(out, at);
  if (n < 0x100) {
    out[at++] = 0xc4;
    out[at++] = n;
  } else if (n < 0x10000) {
    out[at++] = 0xc5;
    out.writeUInt16BE(n, at);
    at += 2;
  } else {
    out[at++] = 0xc6;
    out.writeUInt32BE(n, at);
    at += 4;
  }
  out.set(payload, at);
  return out;
}

const SLAB_SIZE = 512 * 1024;
let slab = Buffer.allocUnsafeSlow(SLAB_SIZE);
let slabUsed = 0;

/**
 * Room for one frame, carved from a slab that is never reused (a new one
 * replaces it when full), so a frame of a few KiB costs no allocation of its
 * own; each frame stays valid for as long as anyone holds it.
 */
function frameBuffer(size: number): Buffer {
  if (size > SLAB_SIZE >>> 3) return Buffer.allocUnsafe(size);
  if (slabUsed + size > SLAB_SIZE) {
    slab = Buffer.allocUnsafeSlow(SLAB_SIZE);
    slabUsed = 0;
  }
  const out = slab.subarray(slabUsed, slabUsed + size);
  slabUsed = (slabUsed + size + 7) & ~7;
  return out;
}

const routeCache = new WeakMap<Route, Buffer[]>();

/** The MessagePack bytes of `route` from index `from`; cached for frozen (immutable) routes. */
function routeBytes(route: Route, from: number): Buffer {
  if (route.length <= from) return EMPTY_ROUTE;
  // the last few routes asked for: a stream of messages to one place hits these without a WeakMap look-up
  for (let i = 0; i < RECENT; i++) {
    const r = recent[i]!;
    if (r.route === route && r.from === from) return r.bytes;
  }
  const bytes = routeBytesSlow(route, from);
  if (Object.isFrozen(route)) {
    recent[recentNext] = { route, from, bytes };
    recentNext = (recentNext + 1) % RECENT;
  }
  return bytes;
}

const RECENT = 4;
const NONE: Route = Object.freeze([]);
const recent: { route: Route; from: number; bytes: Buffer }[] = Array.from({ length: RECENT }, () => ({ route: NONE, from: -1, bytes: EMPTY_ROUTE }));
let recentNext = 0;

function routeBytesSlow(route: Route, from: number): Buffer {
  const frozen = Object.isFrozen(route);
  if (frozen) {
    const cached = routeCache.get(route)?.[from];
    if (cached !== undefined) return cached;
  }
  const wire = new Array<[number, string]>(route.length - from);
  for (let i = from; i < route.length; i++) wire[i - from] = [route[i]!.type, route[i]!.value];
  const bytes = Buffer.from(packr.pack(wire));
  if (frozen) {
    let slots = routeCache.get(route);
    if (slots === undefined) routeCache.set(route, (slots = []));
    slots[from] = bytes;
  }
  return bytes;
}

/**
 * Decodes one frame or throws InvalidFrameError saying what is wrong; `via`
 * is prepended to its return route. A route of more than `maxRouteLength`
 * addresses (onward, or return as sent) is refused before it is looked at.
 */
export function decodeFrame(bytes: Uint8Array, via?: Address, maxRouteLength = Infinity): Frame {
  let value: unknown;
  try {
    value = unpackr.unpack(bytes);
  } catch (err) {
    throw new InvalidFrameError(`not MessagePack: ${(err as Error).message}`);
  }
  if (Array.isArray(value) && (longerThan(value[1], maxRouteLength) || longerThan(value[2], maxRouteLength))) {
    throw new InvalidFrameError(`a route of more than ${maxRouteLength} addresses`);
  }
  // The hand-written check is a fast path for FrameSchema (a property test holds them equal);
  // only what it refuses pays for the schema, which says what is wrong.
  if (!isFrameShape(value)) {
    const result = FrameSchema.safeParse(value);
    if (!result.success) throw new InvalidFrameError(`not a transport message: ${describeIssue(result.error)}`);
  }
  const [, onward, back, payload] = value as [number, [number, string][], [number, string][], Uint8Array];
  return { onward: routeOf(onward, undefined), return: routeOf(back, via), payload };
}

/** True exactly when FrameSchema accepts the value (checked by a property test). */
export function isFrameShape(value: unknown): boolean {
  return (
    Array.isArray(value) &&
    value.length === 4 &&
    value[0] === PROTOCOL_VERSION &&
    isWireRoute(value[1]) &&
    isWireRoute(value[2]) &&
    Buffer.isBuffer(value[3])
  );
}

function longerThan(route: unknown, max: number): boolean {
  return Array.isArray(route) && route.length > max;
}

function isWireRoute(value: unknown): boolean {
  if (!Array.isArray(value)) return false;
  for (const a of value) {
    if (!Array.isArray(a) || a.length !== 2) return false;
    const t: unknown = a[0];
    if (typeof t !== 'number' || !Number.isInteger(t) || t < 0 || t > 255 || typeof a[1] !== 'string') return false;
  }
  return true;
}

function routeOf(wire: [number, string][], first: Address | undefined): Address[] {
  const shift = first === undefined ? 0 : 1;
  const out = new Array<Address>(wire.length + shift);
  if (first !== undefined) out[0] = first;
  for (let i = 0; i < wire.length; i++) {
    const a = wire[i]!;
    out[i + shift] = { type: a[0], value: a[1] };
  }
  return out;
}

function describeIssue(error: z.ZodError): string {
  const issue = error.issues[0];
  if (issue === undefined) return 'invalid';
  const where = issue.path.length === 0 ? 'frame' : `frame[${issue.path.join('][')}]`;
  return `${where}: ${issue.message}`;
}


import { type Address, InvalidFrameError, type Route } from '@tessera/core';
import { Packr, Unpackr } from 'msgpackr';
import { z } from 'zod';

/**
 * PROTOCOL.md §3: one transport message is the MessagePack array
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
  z.instanceof(Uint8Array),
]);

/** A decoded frame: routes as address objects, the payload as bytes. */
export interface Frame {
  onward: Route;
  return: Route;
  payload: Uint8Array;
}

const packr = new Packr({ useRecords: false, variableMapSize: true });
const unpackr = new Unpackr({ useRecords: false, mapsAsObjects: false });

/** Encodes a frame; the payload goes out as MessagePack `bin`. */
export function encodeFrame(onward: Route, back: Route, payload: Uint8Array): Buffer {
  return packr.pack([PROTOCOL_VERSION, wireRoute(onward), wireRoute(back), payload]);
}

/** Decodes one frame or throws InvalidFrameError saying what is wrong. */
export function decodeFrame(bytes: Uint8Array): Frame {
  let value: unknown;
  try {
    value = unpackr.unpack(bytes);
  } catch (err) {
    throw new InvalidFrameError(`not MessagePack: ${(err as Error).message}`);
  }
  // The hand-written check is a fast path for FrameSchema (a property test holds them equal);
  // only what it refuses pays for the schema, which says what is wrong.
  if (!isFrameShape(value)) {
    const result = FrameSchema.safeParse(value);
    if (!result.success) throw new InvalidFrameError(`not a transport message: ${describeIssue(result.error)}`);
  }
  const [, onward, back, payload] = value as [number, [number, string][], [number, string][], Uint8Array];
  return { onward: routeOf(onward), return: routeOf(back), payload };
}

/** True exactly when FrameSchema accepts the value (checked by a property test). */
export function isFrameShape(value: unknown): boolean {
  return (
    Array.isArray(value) &&
    value.length === 4 &&
    value[0] === PROTOCOL_VERSION &&
    isWireRoute(value[1]) &&
    isWireRoute(value[2]) &&
    value[3] instanceof Uint8Array
  );
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

function routeOf(wire: [number, string][]): Address[] {
  const out = new Array<Address>(wire.length);
  for (let i = 0; i < wire.length; i++) {
    const a = wire[i]!;
    out[i] = { type: a[0], value: a[1] };
  }
  return out;
}

const wireCache = new WeakMap<Route, [number, string][]>();

/** The wire form of a route; frozen routes (the common return routes) are converted once. */
function wireRoute(route: Route): [number, string][] {
  const cached = wireCache.get(route);
  if (cached !== undefined) return cached;
  const out = new Array<[number, string]>(route.length);
  for (let i = 0; i < route.length; i++) out[i] = [route[i]!.type, route[i]!.value];
  if (Object.isFrozen(route)) wireCache.set(route, out);
  return out;
}

function describeIssue(error: z.ZodError): string {
  const issue = error.issues[0];
  if (issue === undefined) return 'invalid';
  const where = issue.path.length === 0 ? 'frame' : `frame[${issue.path.join('][')}]`;
  return `${where}: ${issue.message}`;
}


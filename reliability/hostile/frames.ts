// Generated WebSocket messages for a hub (docs/protocol.md §3): bytes that are not
// MessagePack, wrong shapes, deep nesting, huge declared lengths, routes that are too
// long or lead nowhere (or to WS addresses the hub must not dial), forged reply
// addresses, real workers sent garbage, and the odd text or oversized message. Each is
// drawn from a seeded Prng, so the same seed gives the same messages.
import { Packr } from 'msgpackr';
import type { Prng } from './prng.js';

const packr = new Packr({ useRecords: false, variableMapSize: true });

/** What a hub's limits are taken to be (tessera hub's defaults: docs/protocol.md §3, hub-config.ts). */
export const HUB_MAX_MESSAGE_SIZE = 256 << 10;
const MAX_ROUTE_LENGTH = 32;

/** The workers a secure hub runs (start-hub.ts), each a target for garbage. */
const HUB_WORKERS = ['echo', 'token_lease', 'authority', 'secure_channel', 'relay'];

export type FrameKind =
  | 'not-msgpack'
  | 'truncated'
  | 'wrong-shape'
  | 'deep-nesting'
  | 'huge-length'
  | 'long-route'
  | 'random-route'
  | 'forged-reply'
  | 'worker-garbage'
  | 'oversized'
  | 'text';

/** How often each kind is drawn (relative). Text and oversized ones close the connection at once, so they are rare. */
const WEIGHTS: Readonly<Record<FrameKind, number>> = {
  'not-msgpack': 10,
  truncated: 8,
  'wrong-shape': 20,
  'deep-nesting': 6,
  'huge-length': 8,
  'long-route': 4,
  'random-route': 18,
  'forged-reply': 16,
  'worker-garbage': 10,
  oversized: 0.2,
  text: 0.3,
};

export interface HostileFrame {
  kind: FrameKind;
  /** A string is sent as a text message, a Buffer as a binary one. */
  data: Buffer | string;
}

type Address = [number, string];

function frame(onward: unknown, back: unknown, payload: unknown, version: unknown = 1): Buffer {
  return packr.pack([version, onward, back, payload]);
}

function randomName(rng: Prng): string {
  return rng.chance(0.7) ? rng.text(rng.int(0, 24)) : rng.text(rng.int(25, 2_000));
}

function randomAddress(rng: Prng): Address {
  switch (rng.int(0, 5)) {
    case 0:
      return [0, randomName(rng)]; // a LOCAL name nobody registered
    case 1:
      return [3, `127.0.0.1:${rng.int(1, 65_535)}`]; // a WS address: a hub must not dial it
    case 2:
      return [3, rng.pick(['ws://10.0.0.1:80', 'wss://example.com', 'localhost:4000', '[::1]:1', randomName(rng)])];
    case 3:
      return [rng.int(1, 2), randomName(rng)]; // reserved types, no transport
    case 4:
      return [rng.int(4, 255), randomName(rng)];
    default:
      return [0, rng.pick(HUB_WORKERS)];
  }
}

function randomRoute(rng: Prng, max: number): Address[] {
  const n = rng.int(0, max);
  const route: Address[] = [];
  for (let i = 0; i < n; i++) route.push(randomAddress(rng));
  return route;
}

/** A MessagePack value of any kind, nested up to `depth`. */
function randomValue(rng: Prng, depth: number): unknown {
  const kind = rng.int(0, depth > 0 ? 9 : 6);
  switch (kind) {
    case 0:
      return null;
    case 1:
      return rng.chance(0.5);
    case 2:
      return rng.pick([0, 1, -1, 255, 256, 65_536, 2 ** 32, -(2 ** 31), 2 ** 53, 1.5, Number.NaN, Infinity]);
    case 3:
      return rng.text(rng.int(0, 64));
    case 4:
      return rng.bytes(rng.int(0, 64));
    case 5:
      return rng.int(-1_000, 1_000);
    case 6:
      return new Date(rng.int(0, 2 ** 31) * 1000); // an extension type (timestamp)
    case 7:
    case 8: {
      const items: unknown[] = [];
      for (let i = rng.int(0, 6); i > 0; i--) items.push(randomValue(rng, depth - 1));
      return items;
    }
    default: {
      const map = new Map<unknown, unknown>();
      for (let i = rng.int(0, 4); i > 0; i--) map.set(randomValue(rng, 0), randomValue(rng, depth - 1));
      return map;
    }
  }
}

/** A frame with exactly one thing wrong (or nothing right). */
function wrongShape(rng: Prng): Buffer {
  const good = (): Address[] => [[0, 'echo']];
  const back = (): Address[] => [[0, `r.${rng.hex(16)}`]];
  const payload = (): Buffer => rng.bytes(rng.int(0, 32));
  switch (rng.int(0, 13)) {
    case 0:
      return frame(good(), back(), payload(), rng.pick([0, 2, -1, '1', 1.5, null, 255])); // a version other than 1
    case 1:
      return frame(good(), back(), rng.text(rng.int(0, 32))); // a str payload
    case 2:
      return frame([[256 + rng.int(0, 10_000), 'echo']], back(), payload()); // an address type over 255
    case 3:
      return frame([['0', 'echo']], back(), payload()); // a type that is a string
    case 4:
      return frame([[0, rng.int(0, 100)]], back(), payload()); // a value that is not a string
    case 5:
      return frame([[0]], back(), payload()); // an address of one item
    case 6:
      return frame(randomValue(rng, 2), back(), payload()); // onward of any kind
    case 7:
      return frame(good(), randomValue(rng, 2), payload()); // return of any kind
    case 8:
      return packr.pack(rng.pick([[1, good(), back()], [1, good(), back(), payload(), payload()], [], [1]])); // wrong item count
    case 9:
      return packr.pack(new Map<unknown, unknown>([[0, 1], [1, good()], [2, back()], [3, payload()]])); // a map at the top level
    case 10:
      return frame(good(), back(), randomValue(rng, 2)); // payload of any kind
    case 11:
      return frame([[0, 'echo', 'extra']], back(), payload()); // an address of three items
    case 12:
      return packr.pack(randomValue(rng, 4));
    default:
      return frame(good(), back(), new Date()); // an extension type as payload
  }
}

/** Arrays (or maps) nested `depth` deep, alone or in the onward of a frame; up to the size limit. */
function deepNesting(rng: Prng): Buffer {
  const depth = rng.chance(0.9) ? rng.int(10, 5_000) : rng.int(5_000, HUB_MAX_MESSAGE_SIZE - 64);
  const map = rng.chance(0.3);
  const nest = Buffer.alloc(map ? depth * 2 + 1 : depth + 1);
  for (let i = 0; i < depth; i++) {
    if (map) {
      nest[2 * i] = 0x81; // a map of one entry…
      nest[2 * i + 1] = 0x00; // …key 0, value the next level
    } else nest[i] = 0x91; // an array of one item
  }
  nest[nest.length - 1] = 0xc0;
  if (rng.chance(0.5)) return nest.subarray(0, Math.min(nest.length, HUB_MAX_MESSAGE_SIZE - 64));
  // [1, <nest>, [], bin 0]
  return Buffer.concat([Buffer.from([0x94, 0x01]), nest.subarray(0, Math.min(nest.length, HUB_MAX_MESSAGE_SIZE - 64)), Buffer.from([0x90, 0xc4, 0x00])]);
}

/** A header that declares far more than follows: array32, map32, bin32, str32, ext32, array16 and map16. */
function hugeLength(rng: Prng): Buffer {
  const n32 = (n: number): Buffer => {
    const b = Buffer.alloc(4);
    b.writeUInt32BE(n >>> 0);
    return b;
  };
  const big = rng.pick([0xffffffff, 0x7fffffff, 0x10000000, rng.int(HUB_MAX_MESSAGE_SIZE, 0xffffffff)]);
  const header = rng.pick([
    Buffer.concat([Buffer.from([0xdd]), n32(big)]),
    Buffer.concat([Buffer.from([0xdf]), n32(big)]),
    Buffer.concat([Buffer.from([0xc6]), n32(big)]),
    Buffer.concat([Buffer.from([0xdb]), n32(big)]),
    Buffer.concat([Buffer.from([0xc9]), n32(big), Buffer.from([0x01])]),
    Buffer.from([0xdc, 0xff, 0xff]),
    Buffer.from([0xde, 0xff, 0xff]),
  ]);
  const tail = rng.bytes(rng.int(0, 64));
  switch (rng.int(0, 3)) {
    case 0:
      return Buffer.concat([header, tail]);
    case 1: // as onward: [1, <huge>...
      return Buffer.concat([Buffer.from([0x94, 0x01]), header, tail]);
    case 2: // as an address's value: [1, [[0, <huge>...
      return Buffer.concat([Buffer.from([0x94, 0x01, 0x91, 0x92, 0x00]), header, tail]);
    default: // as the payload, after a good envelope: [1, [[0,"echo"]], [], <huge>...
      return Buffer.concat([Buffer.from([0x94, 0x01, 0x91, 0x92, 0x00, 0xa4, 0x65, 0x63, 0x68, 0x6f, 0x90]), header, tail]);
  }
}

/** What one message from a hostile peer is. */
export function hostileFrame(rng: Prng, connectionHint: number): HostileFrame {
  const kind = rng.weighted(WEIGHTS);
  const back = (): Address[] => [[0, `r.${rng.hex(16)}`]];
  switch (kind) {
    case 'not-msgpack': {
      const bytes = rng.bytes(rng.int(0, 512));
      if (bytes.length > 0 && rng.chance(0.3)) bytes[0] = 0xc1; // the one byte MessagePack never uses
      return { kind, data: bytes };
    }
    case 'truncated': {
      const whole = frame(randomRoute(rng, 4), back(), rng.bytes(rng.int(0, 256)));
      return { kind, data: whole.subarray(0, rng.int(0, whole.length - 1)) };
    }
    case 'wrong-shape':
      return { kind, data: wrongShape(rng) };
    case 'deep-nesting':
      return { kind, data: deepNesting(rng) };
    case 'huge-length':
      return { kind, data: hugeLength(rng) };
    case 'long-route': {
      const n = rng.int(MAX_ROUTE_LENGTH + 1, 2_000);
      const route: Address[] = [];
      for (let i = 0; i < n; i++) route.push([0, 'echo']);
      return { kind, data: rng.chance(0.5) ? frame(route, back(), Buffer.alloc(0)) : frame([[0, 'echo']], route, Buffer.alloc(0)) };
    }
    case 'random-route':
      return { kind, data: frame(randomRoute(rng, 6), randomRoute(rng, 6), rng.bytes(rng.int(0, 256))) };
    case 'forged-reply': {
      // a guess at someone's reply address, channel end or connection; or a return route that lies
      const target = rng.pick<() => Address>([
        () => [0, `_request.${rng.hex(16)}`],
        () => [0, `sc.${rng.hex(32)}`],
        () => [0, `sc.enc.${rng.hex(32)}`],
        () => [0, `ws.${rng.int(0, connectionHint + 10)}`],
        () => [0, `ws.${rng.int(0, connectionHint + 10)}.${rng.hex(16)}`],
        () => [0, `forward_to_${rng.text(rng.int(1, 12))}`],
      ])();
      const lie: Address[] = rng.chance(0.5) ? back() : [[0, rng.pick(HUB_WORKERS)], [0, `_request.${rng.hex(16)}`]];
      return { kind, data: frame(rng.chance(0.7) ? [target] : [[0, 'echo'], target], lie, rng.bytes(rng.int(0, 64))) };
    }
    case 'worker-garbage': {
      const payload = rng.chance(0.5) ? rng.bytes(rng.int(0, 1_024)) : Buffer.from(rng.pick(['{', '[]', 'null', '{"action":', '"', '{"action":"list"}'.repeat(rng.int(1, 3))]));
      return { kind, data: frame([[0, rng.pick(HUB_WORKERS)]], back(), payload) };
    }
    case 'oversized':
      return { kind, data: Buffer.alloc(HUB_MAX_MESSAGE_SIZE + rng.int(1, 4_096), 0x91) };
    case 'text':
      return { kind, data: rng.text(rng.int(0, 64)) };
  }
}

/** A valid echo request whose answer comes back to `replyName` on the same connection (docs/protocol.md §3). */
export function echoProbe(replyName: string, payload: Buffer): Buffer {
  return frame([[0, 'echo']], [[0, replyName]], payload);
}

/** The LOCAL name at the head of a received frame's onward, if it is a well-formed frame. */
export function replyName(data: Buffer): string | undefined {
  try {
    const decoded = packr.unpack(data) as unknown;
    if (!Array.isArray(decoded)) return undefined;
    const onward = decoded[1] as unknown;
    if (!Array.isArray(onward)) return undefined;
    const head = onward[0] as unknown;
    return Array.isArray(head) && typeof head[1] === 'string' ? head[1] : undefined;
  } catch {
    return undefined;
  }
}

import { Packr, Unpackr } from 'msgpackr';

// Standard MessagePack only (docs/protocol.md §3, §5): no records; maps decode as Map, never onto objects.
const packr = new Packr({ useRecords: false, variableMapSize: true });
const unpackr = new Unpackr({ useRecords: false, mapsAsObjects: false });

/** The MessagePack bytes of `value`. */
export function pack(value: unknown): Buffer {
  return packr.pack(value);
}

/** The one MessagePack value of `bytes`, or undefined when they are not exactly one value (msgpackr's error may quote the data). */
export function unpackOrUndefined(bytes: Uint8Array): unknown {
  try {
    return unpackr.unpack(bytes);
  } catch {
    return undefined;
  }
}

/** `bytes` as a Buffer without copying, so msgpackr writes it as `bin`. */
export function asBuffer(bytes: Uint8Array): Buffer {
  return Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

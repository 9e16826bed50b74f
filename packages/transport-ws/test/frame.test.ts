import { expect } from 'chai';
import fc from 'fast-check';
import { InvalidFrameError, route } from '@tessera/core';
import { decodeFrame, encodeFrame, FrameSchema, isFrameShape } from '@tessera/transport-ws';
import { pack } from 'msgpackr';

const anyAddress = fc.record({ type: fc.integer({ min: 0, max: 255 }), value: fc.string() });
const anyRoute = fc.array(anyAddress, { maxLength: 5 });

describe('frames (docs/protocol.md §3)', () => {
  it('encodes [1, onward, return, payload] as the spec shows it', () => {
    const bytes = encodeFrame(route('echo'), [], new Uint8Array([1, 2, 3]));
    // 94: array of 4; 01: version; 91 92 00 a4 "echo": [[0,"echo"]]; 90: []; c4 03 01 02 03: bin
    expect(Buffer.from(bytes).toString('hex')).to.equal('94' + '01' + '919200a46563686f' + '90' + 'c403010203');
  });

  it('decode(encode(frame)) is the frame, for any routes and payload', () => {
    fc.assert(
      fc.property(anyRoute, anyRoute, fc.uint8Array({ maxLength: 300 }), (onward, back, payload) => {
        const frame = decodeFrame(encodeFrame(onward, back, payload));
        expect(frame.onward).to.deep.equal(onward);
        expect(frame.return).to.deep.equal(back);
        expect(Buffer.from(frame.payload).equals(Buffer.from(payload))).to.equal(true);
      }),
    );
  });

  it('never throws anything but InvalidFrameError, whatever the bytes', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 200 }), (bytes) => {
        try {
          decodeFrame(bytes);
        } catch (err) {
          expect(err).to.be.instanceOf(InvalidFrameError);
        }
      }),
      { numRuns: 5_000 },
    );
  });

  it('never throws anything but InvalidFrameError for MessagePack of the wrong shape', () => {
    fc.assert(
      fc.property(fc.anything({ withBigInt: false, withMap: true, withSet: false, withTypedArray: true }), (value) => {
        try {
          decodeFrame(pack(value));
        } catch (err) {
          expect(err).to.be.instanceOf(InvalidFrameError);
        }
      }),
      { numRuns: 2_000 },
    );
  });

  it('the fast shape check agrees with the frame schema', () => {
    const nearFrame = fc.tuple(
      fc.oneof(fc.constant(1), fc.integer(), fc.string()),
      fc.oneof(fc.array(fc.tuple(fc.oneof(fc.integer({ min: -2, max: 300 }), fc.double()), fc.oneof(fc.string(), fc.integer()))), fc.anything()),
      fc.array(fc.tuple(fc.integer({ min: 0, max: 255 }), fc.string())),
      fc.oneof(fc.uint8Array(), fc.string(), fc.constant(null)),
    );
    fc.assert(
      fc.property(fc.oneof(nearFrame, fc.anything()), (value) => {
        expect(isFrameShape(value)).to.equal(FrameSchema.safeParse(value).success);
      }),
      { numRuns: 5_000 },
    );
  });

  it('refuses a route longer than maxRouteLength, onward or return, and takes one of exactly that length', () => {
    const hops = (n: number) => Array.from({ length: n }, (_, i) => ({ type: 0, value: `h${i}` }));
    expect(() => decodeFrame(encodeFrame(hops(9), [], new Uint8Array()), undefined, 8)).to.throw(InvalidFrameError, /more than 8/);
    expect(() => decodeFrame(encodeFrame([], hops(9), new Uint8Array()), undefined, 8)).to.throw(InvalidFrameError, /more than 8/);
    expect(decodeFrame(encodeFrame(hops(8), hops(8), new Uint8Array()), route('via')[0], 8).return).to.have.length(9);
  });

  it('refuses a wrong version, a map, a string payload, an address out of range', () => {
    const bad = [
      [2, [], [], new Uint8Array()],
      { 0: 1 },
      [1, [], [], 'payload'],
      [1, [[256, 'x']], [], new Uint8Array()],
      [1, [[0, 'x', 'y']], [], new Uint8Array()],
      [1, [], []],
    ];
    for (const value of bad) expect(() => decodeFrame(pack(value))).to.throw(InvalidFrameError);
  });
});

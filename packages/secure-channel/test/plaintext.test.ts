import { expect } from 'chai';
import { local, route, ws } from '@tessera/core';
import { decodePlaintext, encodePlaintext, InvalidPlaintextError, MAX_BATCH_MESSAGES, MAX_ROUTE_LENGTH, type Plaintext } from '@tessera/secure-channel';
import { Packr } from 'msgpackr';

const packr = new Packr({ useRecords: false });
const payload = Buffer.from('hello');
const message = { onward: route('token_lease'), return: route(local('0123456789abcdef'), ws('hub:4000')), payload };

describe('channel plaintexts (docs/protocol.md §5)', () => {
  const kinds: [string, Plaintext, unknown][] = [
    ['a message', { kind: 'message', message }, [0, [[0, 'token_lease']], [[0, '0123456789abcdef'], [3, 'hub:4000']], payload]],
    ['close', { kind: 'close' }, [1]],
    ['credentials', { kind: 'credentials', credentials: ['a.b.c'] }, [2, ['a.b.c']]],
    ['a batch', { kind: 'batch', messages: [message, { ...message, payload: Buffer.alloc(0) }] }, [3, [[[[0, 'token_lease']], [[0, '0123456789abcdef'], [3, 'hub:4000']], payload], [[[0, 'token_lease']], [[0, '0123456789abcdef'], [3, 'hub:4000']], Buffer.alloc(0)]]]],
  ];
  for (const [what, plaintext, wire] of kinds) {
    it(`encode ${what} as the MessagePack array of the spec, and decode it back`, () => {
      const bytes = encodePlaintext(plaintext);
      expect(bytes.toString('hex')).to.equal(packr.pack(wire).toString('hex'));
      expect(JSON.parse(JSON.stringify(decodePlaintext(bytes)))).to.deep.equal(JSON.parse(JSON.stringify(plaintext)));
    });
  }

  it('decode a payload as bytes and routes as addresses', () => {
    const decoded = decodePlaintext(encodePlaintext({ kind: 'message', message }));
    if (decoded.kind !== 'message') throw new Error('wrong kind');
    expect(Buffer.from(decoded.message.payload)).to.deep.equal(payload);
    expect(decoded.message.return).to.deep.equal([{ type: 0, value: '0123456789abcdef' }, { type: 3, value: 'hub:4000' }]);
  });

  const bad: [string, unknown][] = [
    ['an unknown kind', [4]],
    ['a kind as a string', ['0', [], [], payload]],
    ['close with an extra item', [1, 'x']],
    ['a message with three items', [0, [], []]],
    ['a payload as a string', [0, [], [], 'hello']],
    ['an address type above 255', [0, [[256, 'x']], [], payload]],
    ['an address type that is not an integer', [0, [[1.5, 'x']], [], payload]],
    ['an address with three items', [0, [[0, 'x', 'y']], [], payload]],
    ['an address value that is not a string', [0, [[0, 7]], [], payload]],
    ['a route that is a map', [0, new Map([[0, 'x']]), [], payload]],
    ['a batch that is not an array', [3, 'x']],
    ['a batch with a bad message', [3, [[[], [], 'nope']]]],
    ['credentials that are not strings', [2, [1]]],
    ['too many credentials', [2, Array.from({ length: 17 }, () => 'c')]],
    ['a map', new Map([['kind', 0]])],
    ['an empty array', []],
  ];
  for (const [what, value] of bad) {
    it(`refuse ${what}`, () => {
      expect(() => decodePlaintext(packr.pack(value))).to.throw(InvalidPlaintextError);
    });
  }

  it('refuse bytes that are not exactly one MessagePack value, without quoting them', () => {
    const secret = Buffer.from('SECRET');
    const withTrailer = Buffer.concat([encodePlaintext({ kind: 'close' }), secret]);
    expect(() => decodePlaintext(withTrailer)).to.throw(InvalidPlaintextError).with.property('message').that.does.not.include('SECRET');
    expect(() => decodePlaintext(Buffer.from([0xc1]))).to.throw(InvalidPlaintextError);
    expect(() => decodePlaintext(Buffer.alloc(0))).to.throw(InvalidPlaintextError);
  });
});

describe('batch bounds', () => {
  it('refuses a batch of more than MAX_BATCH_MESSAGES messages (one ciphertext must not stall the receiver)', () => {
    const one = [[[0, 'n']], [], Buffer.alloc(0)];
    const ok = encodePlaintext({ kind: 'batch', messages: Array.from({ length: MAX_BATCH_MESSAGES }, () => ({ onward: [{ type: 0, value: 'n' }], return: [], payload: new Uint8Array(0) })) });
    expect(decodePlaintext(ok)).to.have.property('kind', 'batch');
    const tooMany = Buffer.from(packr.pack([3, Array.from({ length: MAX_BATCH_MESSAGES + 1 }, () => one)]));
    expect(() => decodePlaintext(tooMany)).to.throw(/at most/);
  });
});

describe('route bounds', () => {
  const routeOf = (n: number) => Array.from({ length: n }, (_, i) => [0, `hop${i}`]);

  it(`takes routes of up to MAX_ROUTE_LENGTH (${MAX_ROUTE_LENGTH}, as a WebSocket frame) addresses and refuses longer ones, onward or return, as garbage`, () => {
    const ok = decodePlaintext(packr.pack([0, routeOf(MAX_ROUTE_LENGTH), routeOf(MAX_ROUTE_LENGTH), payload]));
    expect(ok).to.have.property('kind', 'message');
    expect(() => decodePlaintext(packr.pack([0, routeOf(MAX_ROUTE_LENGTH + 1), [], payload]))).to.throw(InvalidPlaintextError, /at most 32/);
    expect(() => decodePlaintext(packr.pack([0, [], routeOf(20_000), payload]))).to.throw(InvalidPlaintextError, /at most 32/);
    expect(() => decodePlaintext(packr.pack([3, [[[], routeOf(MAX_ROUTE_LENGTH + 1), payload]]]))).to.throw(InvalidPlaintextError, /at most 32/);
  });
});

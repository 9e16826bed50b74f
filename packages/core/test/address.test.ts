import { expect } from 'chai';
import fc from 'fast-check';
import {
  address,
  formatAddress,
  formatRoute,
  InvalidAddressError,
  LOCAL,
  parseAddress,
  parseRoute,
  route,
  routeEquals,
  WS,
} from '@tessera/core';

const anyAddress = fc.record({ type: fc.integer({ min: 0, max: 255 }), value: fc.string() });

describe('addresses and routes', () => {
  it('reads the text forms of docs/protocol.md §1', () => {
    expect(parseAddress('0#token_lease')).to.deep.equal({ type: LOCAL, value: 'token_lease' });
    expect(parseAddress('3#hub.example:4000')).to.deep.equal({ type: WS, value: 'hub.example:4000' });
    expect(parseAddress('echo')).to.deep.equal({ type: LOCAL, value: 'echo' });
    expect(parseAddress('3#ws://h:1/x#y')).to.deep.equal({ type: WS, value: 'ws://h:1/x#y' });
  });

  it('treats a prefix that is not a type 0..255 as part of a LOCAL name', () => {
    expect(parseAddress('256#x')).to.deep.equal({ type: LOCAL, value: '256#x' });
    expect(parseAddress('a#b')).to.deep.equal({ type: LOCAL, value: 'a#b' });
  });

  it('refuses an empty address and a type out of range', () => {
    expect(() => parseAddress('')).to.throw(InvalidAddressError);
    expect(() => address(256, 'x')).to.throw(InvalidAddressError);
    expect(() => address(-1, 'x')).to.throw(InvalidAddressError);
    expect(() => address(1.5, 'x')).to.throw(InvalidAddressError);
  });

  it('formats as TYPE#VALUE', () => {
    expect(formatAddress(address(0, 'echo'))).to.equal('0#echo');
    expect(formatRoute(route('3#127.0.0.1:4000', 'echo'))).to.equal('3#127.0.0.1:4000 => 0#echo');
  });

  it('parse(format(a)) is a, for any address', () => {
    fc.assert(
      fc.property(anyAddress, (a) => {
        expect(parseAddress(formatAddress(a))).to.deep.equal(a);
      }),
    );
  });

  it('parseRoute(formatRoute(r)) is r, for routes whose values hold no separator', () => {
    const hop = fc.record({
      type: fc.integer({ min: 0, max: 255 }),
      value: fc.string().filter((s) => !s.includes('=>') && s.trim() === s),
    });
    fc.assert(
      fc.property(fc.array(hop, { minLength: 1, maxLength: 6 }), (hops) => {
        const r = route(...hops.map((h) => address(h.type, h.value)));
        expect(routeEquals(parseRoute(formatRoute(r)), r)).to.equal(true);
      }),
    );
  });
});

import { expect } from 'chai';
import { escapeTag, quoteField, quoteIdentifier, quoteString } from '../src/influxql.js';
import { parseUserName, userName } from '../src/v1/names.js';
import { describeLease, parseDescription } from '../src/v2/description.js';

describe('InfluxQL quoting', () => {
  it('escapes quotes and backslashes so the text stays one token', () => {
    expect(quoteIdentifier('plain')).to.equal('"plain"');
    expect(quoteIdentifier('a"b')).to.equal('"a\\"b"');
    expect(quoteIdentifier('a\\')).to.equal('"a\\\\"');
    expect(quoteIdentifier('x\\"; DROP USER "admin')).to.equal('"x\\\\\\"; DROP USER \\"admin"');
    expect(quoteString("it's")).to.equal("'it\\'s'");
    expect(quoteString("\\'")).to.equal("'\\\\\\''");
  });

  it('refuses control characters, which no InfluxQL escape can carry', () => {
    for (const text of ['a\nb', 'a\rb', 'a\u0000b', 'a\tb']) {
      expect(() => quoteIdentifier(text)).to.throw(TypeError);
      expect(() => quoteString(text)).to.throw(TypeError);
    }
  });

  it('escapes line protocol tags and string fields', () => {
    expect(escapeTag('a b,c=d\\')).to.equal('a\\ b\\,c\\=d\\\\');
    expect(quoteField('say "hi" \\')).to.equal('"say \\"hi\\" \\\\"');
  });
});

describe('v1 user names', () => {
  it('carry the marker, an id and the expiry, exactly to the millisecond', () => {
    const expires = new Date('2026-03-04T05:06:07.089Z');
    const name = userName('tessera-lease', '0123456789abcdef', expires);
    expect(name).to.equal('tessera-lease_0123456789abcdef_20260304T050607.089Z');
    expect(parseUserName('tessera-lease', name)).to.deep.equal({ expires: expires.toISOString() });
  });

  it('are not mistaken for another marker’s or a hand-made user', () => {
    const name = userName('tessera-lease', '0123456789abcdef', new Date(0));
    expect(parseUserName('tessera', name)).to.equal(undefined);
    expect(parseUserName('tessera-lease-b', name)).to.equal(undefined);
    for (const other of ['admin', 'tessera-lease_0123456789abcdef', 'tessera-lease_0123456789ABCDEF_19700101T000000.000Z', 'tessera-lease_0123456789abcdef_20261399T000000.000Z', `${name}x`]) {
      expect(parseUserName('tessera-lease', other), other).to.equal(undefined);
    }
  });
});

describe('v2 descriptions', () => {
  it('carry the marker and the expiry', () => {
    const expires = new Date('2026-03-04T05:06:07.089Z');
    expect(describeLease('tessera-lease', expires)).to.equal('tessera-lease v1 expires=2026-03-04T05:06:07.089Z');
    expect(parseDescription('tessera-lease', describeLease('tessera-lease', expires))).to.deep.equal({ managed: true, expires: expires.toISOString() });
  });

  it('tell managed from unmanaged; a managed token with a garbled expiry has none', () => {
    expect(parseDescription('tessera-lease', undefined)).to.deep.equal({ managed: false });
    expect(parseDescription('tessera-lease', 'my token')).to.deep.equal({ managed: false });
    expect(parseDescription('tessera-lease', 'tessera-lease-b v1 expires=2026-01-01T00:00:00.000Z')).to.deep.equal({ managed: false });
    expect(parseDescription('tessera-lease', 'tessera-lease v1 expires=soon')).to.deep.equal({ managed: true });
  });
});

import { expect } from 'chai';
import { escapeTag, quoteField, quoteIdentifier, quoteString } from '../src/influxql.js';
import { parseOwnedUserName, parseUserName, userName } from '../src/v1/names.js';
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

const OURS = { marker: 'tessera-lease', deployment: 'prod', adoptLegacy: false };

describe('v1 user names', () => {
  it('carry the marker, the deployment, an id and the expiry, exactly to the millisecond', () => {
    const expires = new Date('2026-03-04T05:06:07.089Z');
    const name = userName('tessera-lease', 'prod', '0123456789abcdef', expires);
    expect(name).to.equal('tessera-lease_prod_0123456789abcdef_20260304T050607.089Z');
    expect(parseUserName('tessera-lease', name)).to.deep.equal({ deployment: 'prod', expires: expires.toISOString() });
    expect(parseOwnedUserName(OURS, name)).to.deep.equal({ expires: expires.toISOString() });
  });

  it('are not mistaken for another marker’s or a hand-made user', () => {
    const name = userName('tessera-lease', 'prod', '0123456789abcdef', new Date(0));
    expect(parseUserName('tessera', name)).to.equal(undefined);
    expect(parseUserName('tessera-lease-b', name)).to.equal(undefined);
    for (const other of [
      'admin',
      'tessera-lease_0123456789abcdef',
      'tessera-lease_0123456789ABCDEF_19700101T000000.000Z',
      'tessera-lease_0123456789abcdef_20261399T000000.000Z',
      'tessera-lease_pr od_0123456789abcdef_19700101T000000.000Z',
      'tessera-lease_a_b_0123456789abcdef_19700101T000000.000Z',
      `${name}x`,
    ]) {
      expect(parseUserName('tessera-lease', other), other).to.equal(undefined);
    }
  });

  it('belong to one deployment: another deployment’s are not ours, legacy ones only when adopted', () => {
    const other = userName('tessera-lease', 'staging', '0123456789abcdef', new Date(0));
    const legacy = 'tessera-lease_0123456789abcdef_19700101T000000.000Z';
    expect(parseUserName('tessera-lease', other)).to.deep.include({ deployment: 'staging' });
    expect(parseOwnedUserName(OURS, other)).to.equal(undefined);
    expect(parseUserName('tessera-lease', legacy)).to.deep.equal({ deployment: undefined, expires: new Date(0).toISOString() });
    expect(parseOwnedUserName(OURS, legacy)).to.equal(undefined);
    expect(parseOwnedUserName({ ...OURS, adoptLegacy: true }, legacy)).to.deep.equal({ expires: new Date(0).toISOString() });
    expect(parseOwnedUserName({ ...OURS, adoptLegacy: true }, other)).to.equal(undefined);
  });
});

describe('v2 descriptions', () => {
  it('carry the marker, the deployment and the expiry', () => {
    const expires = new Date('2026-03-04T05:06:07.089Z');
    expect(describeLease('tessera-lease', 'prod', expires)).to.equal('tessera-lease v2 deployment=prod expires=2026-03-04T05:06:07.089Z');
    expect(parseDescription(OURS, describeLease('tessera-lease', 'prod', expires))).to.deep.equal({ managed: true, expires: expires.toISOString() });
  });

  it('tell managed from unmanaged; a managed token with a garbled expiry has none', () => {
    expect(parseDescription(OURS, undefined)).to.deep.equal({ managed: false });
    expect(parseDescription(OURS, 'my token')).to.deep.equal({ managed: false });
    expect(parseDescription(OURS, 'tessera-lease-b v2 deployment=prod expires=2026-01-01T00:00:00.000Z')).to.deep.equal({ managed: false });
    expect(parseDescription(OURS, 'tessera-lease v2 deployment=prod expires=soon')).to.deep.equal({ managed: true });
  });

  it('belong to one deployment: another deployment’s are not ours, legacy ones only when adopted', () => {
    const other = describeLease('tessera-lease', 'staging', new Date(0));
    const legacy = 'tessera-lease v1 expires=2030-01-01T00:00:00.000Z';
    expect(parseDescription(OURS, other)).to.deep.equal({ managed: false });
    expect(parseDescription(OURS, 'tessera-lease v2 deployment=prodx expires=2030-01-01T00:00:00.000Z')).to.deep.equal({ managed: false });
    expect(parseDescription(OURS, legacy)).to.deep.equal({ managed: false });
    expect(parseDescription({ ...OURS, adoptLegacy: true }, legacy)).to.deep.equal({ managed: true, expires: '2030-01-01T00:00:00.000Z' });
    expect(parseDescription({ ...OURS, adoptLegacy: true }, other)).to.deep.equal({ managed: false });
  });
});

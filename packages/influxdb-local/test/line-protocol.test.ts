import { Point } from '@influxdata/influxdb-client';
import { expect } from 'chai';
import fc from 'fast-check';
import { parseLineProtocol, splitLines } from '../src/line-protocol.js';

const NOW = 1_700_000_000_123_456_789n;
const parse = (body: string, precision: 'ns' | 'us' | 'ms' | 's' = 'ns') => parseLineProtocol(body, precision, NOW);
const one = (line: string) => {
  const { points, errors } = parse(line);
  expect(errors).to.deep.equal([]);
  expect(points).to.have.length(1);
  return points[0]!;
};
const reason = (line: string) => {
  const { points, errors } = parse(line);
  expect(points).to.deep.equal([]);
  expect(errors).to.have.length(1);
  return errors[0]!.replace(/^unable to parse '.*': /s, '');
};

describe('influxdb-local: line protocol', () => {
  it('parses measurement, sorted tags, typed fields and timestamp', () => {
    const p = one('cpu,region=eu,host=a usage=0.5,count=3i,big=18446744073709551615u,ok=t,name="x y" 123');
    expect(p.measurement).to.equal('cpu');
    expect(p.tags).to.deep.equal([['host', 'a'], ['region', 'eu']]);
    expect(Object.fromEntries(p.fields)).to.deep.equal({ usage: 0.5, count: 3n, big: 18446744073709551615n, ok: true, name: 'x y' });
    expect(p.time).to.equal(123n);
  });

  it('unescapes names and string values', () => {
    const p = one('my\\ meas\\,ure,a\\=b=x\\ y\\,z f\\ k="quote \\" and backslash \\\\ and \\n",g=1');
    expect(p.measurement).to.equal('my meas,ure');
    expect(p.tags).to.deep.equal([['a=b', 'x y,z']]);
    expect(p.fields.get('f k')).to.equal('quote " and backslash \\ and \\n');
  });

  it('keeps a newline inside a string field in its line, and skips blanks, comments and CRs', () => {
    const body = '# a comment\n\n  m s="two\nlines" 1\r\n   \nm v=2 2\n';
    expect(splitLines(body)).to.have.length(5);
    const { points, errors } = parse(body);
    expect(errors).to.deep.equal([]);
    expect(points.map((p) => p.fields.get('s') ?? p.fields.get('v'))).to.deep.equal(['two\nlines', 2]);
  });

  it('reads every number and boolean form', () => {
    const p = one('m a=1.,b=.5,c=-1e3,d=-7i,e=0u,f=T,g=FALSE,h=true,i=F,j=1E+2');
    expect(Object.fromEntries(p.fields)).to.deep.equal({ a: 1, b: 0.5, c: -1000, d: -7n, e: 0n, f: true, g: false, h: true, i: false, j: 100 });
  });

  it('scales timestamps by precision and gives the current time, truncated, when there is none', () => {
    expect(parse('m v=1 5', 'ms').points[0]!.time).to.equal(5_000_000n);
    expect(parse('m v=1 5', 'us').points[0]!.time).to.equal(5_000n);
    expect(parse('m v=1', 's').points[0]!.time).to.equal(1_700_000_000_000_000_000n);
    expect(parse('m v=1', 'ns').points[0]!.time).to.equal(NOW);
    expect(parse('m v=1 -5').points[0]!.time).to.equal(-5n);
  });

  it('words errors as InfluxDB does', () => {
    expect(reason(',a=b v=1')).to.equal('missing measurement');
    expect(reason('cpu')).to.equal('missing fields');
    expect(reason('cpu,a=b')).to.equal('missing fields');
    expect(reason('cpu v')).to.equal('invalid field format');
    expect(reason('cpu v=')).to.equal('missing field value');
    expect(reason('cpu v=,w=1')).to.equal('missing field value');
    expect(reason('cpu =1')).to.equal('missing field key');
    expect(reason('cpu,a v=1')).to.equal('missing tag value');
    expect(reason('cpu,a= v=1')).to.equal('missing tag value');
    expect(reason('cpu,=a v=1')).to.equal('missing tag key');
    expect(reason('cpu,a=1,a=2 v=1')).to.equal('duplicate tags');
    expect(reason('cpu v="open')).to.equal('unbalanced quotes');
    expect(reason('cpu v=yes')).to.equal('invalid boolean');
    expect(reason('cpu v=1.2.3')).to.equal('invalid number');
    expect(reason('cpu v=9223372036854775808i')).to.match(/out of range/);
    expect(reason('cpu v=-1u')).to.equal('invalid number');
    expect(reason('cpu v=1 12a')).to.equal('bad timestamp');
    expect(reason('cpu v=1 1 2')).to.equal('bad timestamp');
    expect(reason('cpu v=1 9223372036854775807')).to.equal('time outside range');
  });

  it('reports every bad line and keeps the good ones apart', () => {
    const { points, errors } = parse('ok v=1 1\nbad\nalso bad=\nok v=2 2');
    expect(points).to.have.length(2);
    expect(errors).to.deep.equal(["unable to parse 'bad': missing fields", "unable to parse 'also bad=': missing field value"]);
  });

  it('never throws, whatever the body', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 200 }), (body) => {
        const { points, errors } = parse(body);
        expect(points.length + errors.length).to.be.at.most(body.split('\n').length);
      }),
      { numRuns: 1_000 },
    );
  });

  it('reads back what the official client writes', () => {
    const name = fc.string({ minLength: 1, maxLength: 12 }).filter((s) => !/[\n\r\t\\]/.test(s) && !s.startsWith('#'));
    const key = fc.string({ minLength: 1, maxLength: 8 }).filter((s) => !/[\n\r\t\\]/.test(s));
    fc.assert(
      fc.property(
        name,
        fc.dictionary(key, key, { maxKeys: 4 }),
        fc.dictionary(key, fc.oneof(fc.double({ noNaN: true, noDefaultInfinity: true }), fc.integer(), fc.string(), fc.boolean()), { minKeys: 1, maxKeys: 5 }),
        fc.bigInt({ min: -(10n ** 18n), max: 10n ** 18n }),
        (measurement, tags, fields, time) => {
          const point = new Point(measurement).timestamp(time.toString());
          for (const [k, v] of Object.entries(tags)) point.tag(k, v);
          const expected = new Map<string, unknown>();
          for (const [k, v] of Object.entries(fields)) {
            if (typeof v === 'string') point.stringField(k, v);
            else if (typeof v === 'boolean') point.booleanField(k, v);
            else if (Number.isSafeInteger(v) && !Object.is(v, -0)) point.intField(k, v);
            else point.floatField(k, v);
            expected.set(k, typeof v === 'number' && Number.isSafeInteger(v) && !Object.is(v, -0) ? BigInt(v) : v);
          }
          const p = one(point.toLineProtocol()!);
          expect(p.measurement).to.equal(measurement);
          expect(p.tags).to.deep.equal(Object.entries(tags).sort((a, b) => (a[0] < b[0] ? -1 : 1)));
          expect(p.time).to.equal(time);
          // === also takes -0 (which the client writes as 0) as equal to 0.
          for (const [k, v] of expected) expect(p.fields.get(k) === v, `field ${k}`).to.equal(true);
        },
      ),
      { numRuns: 500 },
    );
  });
});

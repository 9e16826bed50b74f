import { expect } from 'chai';
import { InfluxdbLocalOptionsError, startInfluxdbLocal } from '../src/index.js';
import { newId, newToken, parseId } from '../src/ids.js';
import { resolveOptions } from '../src/options.js';
import { start, stopAll } from './helpers.js';

describe('influxdb-local: options and ids', () => {
  afterEach(stopAll);

  it('fills in defaults, taking the token from INFLUX_TOKEN', () => {
    const o = resolveOptions({}, { INFLUX_TOKEN: 'from-env' });
    expect(o).to.include({ host: '127.0.0.1', port: 8086, org: 'tessera', bucket: 'tessera', token: 'from-env', maxBodyBytes: 25 * 1024 * 1024 });
    expect(resolveOptions({ token: 'given' }, { INFLUX_TOKEN: 'from-env' }).token).to.equal('given');
    expect(resolveOptions({}, {}).token).to.equal(undefined);
  });

  it('rejects bad options with InfluxdbLocalOptionsError', async () => {
    for (const bad of [{ port: -1 }, { port: 1.5 }, { org: '' }, { bucket: '_system' }, { token: 'has space' }, { maxBodyBytes: 0 }, { clock: 'now' }, { prot: 1 }]) {
      expect(() => resolveOptions(bad, {}), JSON.stringify(bad)).to.throw(InfluxdbLocalOptionsError);
    }
    try {
      await startInfluxdbLocal({ port: 70_000 });
      expect.fail('should not start');
    } catch (err) {
      expect((err as Error).name).to.equal('InfluxdbLocalOptionsError');
    }
  });

  it('returns the documented shape', async () => {
    const server = await start({ org: 'o', bucket: 'b', token: 'tok' });
    expect(server.url).to.match(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(server).to.include({ org: 'o', bucket: 'b', token: 'tok' });
    expect(server.orgID).to.match(/^[0-9a-f]{16}$/);
    expect(server.bucketID).to.match(/^[0-9a-f]{16}$/);
    expect(typeof server.points).to.equal('function');
    expect(typeof server.countPoints).to.equal('function');
    expect(server.stats()).to.have.property('POST /api/v2/write', 0);
    await server.close();
    await server.close();
  });

  it('generates a random 88-character operator token when none is given', async () => {
    const a = await startInfluxdbLocal({ port: 0 });
    const b = await startInfluxdbLocal({ port: 0 });
    try {
      if (process.env.INFLUX_TOKEN === undefined || process.env.INFLUX_TOKEN === '') {
        expect(a.token).to.have.length(88);
        expect(a.token).to.not.equal(b.token);
      }
    } finally {
      await Promise.all([a.close(), b.close()]);
    }
  });

  it('fails to start on a port in use', async () => {
    const first = await start();
    const port = Number(new URL(first.url).port);
    try {
      await startInfluxdbLocal({ port });
      expect.fail('should not start');
    } catch (err) {
      expect((err as NodeJS.ErrnoException).code).to.equal('EADDRINUSE');
    }
  });

  it('makes ids and tokens in InfluxDB formats, and checks ids as it does', () => {
    expect(newId()).to.match(/^[0-9a-f]{16}$/);
    const draws = [Buffer.alloc(8), Buffer.alloc(8, 0xab)];
    expect(newId(() => draws.shift()!)).to.equal('abababababababab');
    const token = newToken();
    expect(token).to.have.length(88).and.match(/==$/);
    expect(Buffer.from(token, 'base64url')).to.have.length(64);
    expect(parseId('0123456789ABCDEF')).to.equal('0123456789abcdef');
    expect(() => parseId('012')).to.throw('id must have a length of 16 bytes');
    expect(() => parseId('0000000000000000')).to.throw('invalid ID');
    expect(() => parseId('0123456789abcdeg')).to.throw('invalid ID');
  });
});

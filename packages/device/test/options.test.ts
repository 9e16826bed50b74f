import { expect } from 'chai';
import { formatRoute } from '@tessera/core';
import { DeviceOptionsError, leaseRoute, resolveDeviceOptions, toLine } from '../src/index.js';

const base = { hub: 'ws://127.0.0.1:4000', deviceId: 'dev-1', influxUrl: 'http://127.0.0.1:8086/', org: 'tessera', bucket: 'tessera' };

describe('device options', function () {
  it('fills in defaults and routes to the hub lease worker', function () {
    const o = resolveDeviceOptions(base);
    expect(formatRoute(o.hub)).to.equal('3#ws://127.0.0.1:4000 => 0#token_lease');
    expect(o).to.include({ influxUrl: 'http://127.0.0.1:8086', interval: 1_000, measurement: 'device_metrics', batchSize: 500, revokeOnStop: true });
  });

  it('keeps the lease on stop when it is cached, else revokes it', function () {
    expect(resolveDeviceOptions(base).revokeOnStop).to.equal(true);
    expect(resolveDeviceOptions({ ...base, cache: { path: '/tmp/lease', keyFile: '/tmp/key' } }).revokeOnStop).to.equal(false);
    expect(resolveDeviceOptions({ ...base, cache: { path: '/tmp/lease', keyFile: '/tmp/key' }, revokeOnStop: true }).revokeOnStop).to.equal(true);
  });

  it('takes the hub as host:port, 3#host:port, a written route or a Route', function () {
    expect(formatRoute(leaseRoute('127.0.0.1:4000'))).to.equal('3#127.0.0.1:4000 => 0#token_lease');
    expect(formatRoute(leaseRoute('3#hub:4000', 'leases'))).to.equal('3#hub:4000 => 0#leases');
    expect(formatRoute(leaseRoute('3#a:1 => 3#b:2 => token_lease'))).to.equal('3#a:1 => 3#b:2 => 0#token_lease');
    const hub = [{ type: 3, value: 'h:1' }, { type: 0, value: 'x' }];
    expect(formatRoute(resolveDeviceOptions({ ...base, hub }).hub)).to.equal('3#h:1 => 0#x');
  });

  for (const [field, value, says] of [
    ['hub', 'http://127.0.0.1:4000', 'hub'],
    ['hub', '', 'hub'],
    ['deviceId', '', 'deviceId'],
    ['deviceId', 'a\nb', 'deviceId'],
    ['influxUrl', 'ftp://x', 'influxUrl'],
    ['interval', 0, 'interval'],
    ['interval', 1.5, 'interval'],
    ['org', '', 'org'],
    ['node', {}, 'node'],
    ['bogus', 1, 'bogus'],
  ] as const) {
    it(`refuses ${field}=${JSON.stringify(value)}`, function () {
      expect(() => resolveDeviceOptions({ ...base, [field]: value } as never))
        .to.throw(DeviceOptionsError)
        .with.property('message')
        .that.includes(says);
    });
  }
});

describe('device line protocol', function () {
  it('writes device_metrics,device=<id> value=<n>,seq=<seq>i <ms>', function () {
    expect(toLine('device_metrics', 'dev-1', { seq: 7, value: 21.5, timestamp: 1_700_000_000_123 })).to.equal(
      'device_metrics,device=dev-1 value=21.5,seq=7i 1700000000123',
    );
  });

  it('escapes what line protocol needs escaped', function () {
    expect(toLine('my metrics,x', 'a b,c=d', { seq: 1, value: 2, timestamp: 3 })).to.equal('my\\ metrics\\,x,device=a\\ b\\,c\\=d value=2,seq=1i 3');
  });

  it('refuses a value that is not a finite number', function () {
    expect(() => toLine('m', 'd', { seq: 1, value: NaN, timestamp: 3 })).to.throw(RangeError);
  });
});

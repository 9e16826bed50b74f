import { expect } from 'chai';
import { rejection } from '@tessera/testing';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { influxdbV1, influxdbV2 } from '../src/index.js';

const TOKEN = 'operator-token-0123456789-secret==';
const ORG_ID = '0123456789abcdef';
const BUCKET_ID = '1111111111111111';
const HOUR = 3_600_000;

type Handler = (req: IncomingMessage, body: string) => { status: number; body: unknown } | undefined;

/** A stand-in for InfluxDB v2 that knows the org and bucket and answers the rest with `handler`. */
async function fakeInflux(handler: Handler): Promise<{ url: string; requests: string[]; close(): Promise<void> }> {
  const requests: string[] = [];
  const server: Server = createServer((req: IncomingMessage, res: ServerResponse) => {
    let body = '';
    req.setEncoding('utf8').on('data', (c: string) => (body += c));
    req.on('end', () => {
      const path = new URL(req.url ?? '/', 'http://x').pathname;
      requests.push(`${req.method} ${path}`);
      const send = (status: number, payload: unknown): void => {
        res.writeHead(status, { 'content-type': 'application/json; charset=utf-8' }).end(payload === undefined ? '' : JSON.stringify(payload));
      };
      const answer = handler(req, body);
      if (answer !== undefined) return send(answer.status, answer.body);
      if (path === '/api/v2/orgs') return send(200, { orgs: [{ id: ORG_ID, name: 'tessera' }] });
      if (path === '/api/v2/buckets') return send(200, { buckets: [{ id: BUCKET_ID, name: 'tessera', orgID: ORG_ID }] });
      send(500, { code: 'internal error', message: 'unexpected request' });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}`, requests, close: () => new Promise((resolve) => server.close(() => resolve())) };
}

const request = (options: Record<string, unknown> = {}) => {
  const issued = new Date();
  return { ttl: HOUR, issued, expires: new Date(issued.getTime() + HOUR), options };
};


describe('influxdb-v2 error mapping and requests', () => {
  it('maps statuses to typed errors carrying the status and InfluxDB message', async () => {
    let status = 500;
    const fake = await fakeInflux((req) => (req.url?.startsWith('/api/v2/authorizations') ? { status, body: { code: 'some code', message: `influx says ${status}` } } : undefined));
    try {
      const service = influxdbV2({ url: fake.url, token: TOKEN, org: 'tessera' });
      for (const [s, name] of [
        [500, 'CloudUnavailableError'],
        [503, 'CloudUnavailableError'],
        [429, 'CloudUnavailableError'],
        [400, 'CloudRejectedError'],
        [401, 'CloudRejectedError'],
        [403, 'CloudRejectedError'],
        [422, 'CloudRejectedError'],
        [404, 'CloudNotFoundError'],
      ] as const) {
        status = s;
        const err = await rejection(service.create(request()));
        expect(err.name, String(s)).to.equal(name);
        expect(err.status).to.equal(s);
        expect(err.message).to.contain(`influx says ${s}`);
      }
      status = 404;
      await service.revoke('aaaaaaaaaaaaaaaa'); // 404 on DELETE: already revoked
      expect(await service.get('aaaaaaaaaaaaaaaa')).to.equal(undefined);
      expect((await rejection(service.renew('aaaaaaaaaaaaaaaa', HOUR, new Date()))).name).to.equal('CloudNotFoundError');
      status = 503;
      expect((await rejection(service.revoke('aaaaaaaaaaaaaaaa'))).name).to.equal('CloudUnavailableError');
    } finally {
      await fake.close();
    }
  });

  it('never puts the operator token in an error, even when the server echoes it', async () => {
    const fake = await fakeInflux((req) => {
      if (!req.url?.startsWith('/api/v2/authorizations')) return undefined;
      return { status: 400, body: { code: 'invalid', message: `bad request with ${req.headers.authorization}` } };
    });
    try {
      const service = influxdbV2({ url: fake.url, token: TOKEN, org: 'tessera' });
      const err = await rejection(service.create(request()));
      expect(err.message).to.contain('[redacted]');
      expect(`${err.message}${err.stack}`).not.to.contain(TOKEN);
    } finally {
      await fake.close();
    }
  });

  it('resolves bucket names to ids once (cached), and never sends a name-only bucket permission', async () => {
    const bodies: unknown[] = [];
    const fake = await fakeInflux((req, body) => {
      if (req.method === 'POST' && req.url === '/api/v2/authorizations') {
        bodies.push(JSON.parse(body));
        return { status: 201, body: { id: `00000000000000${String(bodies.length).padStart(2, '0')}`, token: 'x'.repeat(86) + '==', status: 'active' } };
      }
      return undefined;
    });
    try {
      let now = 0;
      const service = influxdbV2({ url: fake.url, token: TOKEN, org: 'tessera', bucketCacheTtl: 1000 }, { now: () => now });
      await service.create(request());
      await service.create(request({ permissions: [{ action: 'read', resource: { type: 'buckets', name: 'tessera' } }] }));
      expect(fake.requests.filter((r) => r === 'GET /api/v2/buckets')).to.have.length(1);
      now = 5000;
      await service.create(request());
      expect(fake.requests.filter((r) => r === 'GET /api/v2/buckets')).to.have.length(2);
      expect(bodies[0]).to.deep.include({
        orgID: ORG_ID,
        status: 'active',
        permissions: [{ action: 'write', resource: { type: 'buckets', id: BUCKET_ID, orgID: ORG_ID } }],
      });
      expect((bodies[0] as { description: string }).description).to.match(/^tessera-lease v2 deployment=default expires=\d{4}-\d\d-\d\dT[\d:.]+Z$/);
      expect((bodies[1] as { permissions: unknown[] }).permissions).to.deep.equal([{ action: 'read', resource: { type: 'buckets', id: BUCKET_ID, orgID: ORG_ID } }]);
    } finally {
      await fake.close();
    }
  });

  it('refuses org-wide, unknown, foreign and non-bucket permissions with InvalidOptionsError', async () => {
    const fake = await fakeInflux(() => undefined);
    try {
      const service = influxdbV2({ url: fake.url, token: TOKEN, org: 'tessera' });
      const bad: unknown[] = [
        { permissions: [{ action: 'write' }] },
        { permissions: [{ action: 'write', resource: { type: 'buckets' } }] },
        { permissions: [{ action: 'write', bucket: 'nope' }] },
        { permissions: [{ action: 'write', resource: { type: 'authorizations' } }] },
        { permissions: [{ action: 'delete', bucket: 'tessera' }] },
        { permissions: [{ action: 'write', bucketID: 'not-an-id' }] },
        { permissions: [] },
        { orgID: 'ffffffffffffffff' },
      ];
      for (const options of bad) {
        const err = await rejection(service.create({ ...request(), options: options as Record<string, unknown> }));
        expect(err.name, JSON.stringify(options)).to.equal('InvalidOptionsError');
      }
      expect(fake.requests.some((r) => r.startsWith('POST'))).to.equal(false);
      expect(() => influxdbV2({ url: fake.url, token: TOKEN, org: 'tessera', permissions: [{ action: 'write' }] })).to.throw(/allowOrgWideGrants/);
    } finally {
      await fake.close();
    }
  });

  it('follows links.next when the server pages, and keeps only the org’s authorizations', async () => {
    const page = (ids: string[], next?: string) => ({
      authorizations: ids.map((id) => ({ id, orgID: ORG_ID, status: 'active', description: `tessera-lease v2 deployment=default expires=2030-01-01T00:00:00.000Z` })),
      links: next === undefined ? {} : { next },
    });
    const fake = await fakeInflux((req) => {
      if (req.url === `/api/v2/authorizations?orgID=${ORG_ID}`) return { status: 200, body: page(['000000000000000a'], '/api/v2/authorizations?orgID=x&offset=1') };
      if (req.url === '/api/v2/authorizations?orgID=x&offset=1') return { status: 200, body: { ...page(['000000000000000b'], '/api/v2/authorizations?orgID=x&offset=2'), authorizations: [...page(['000000000000000b']).authorizations, { id: '000000000000000f', orgID: 'ffffffffffffffff' }] } };
      if (req.url === '/api/v2/authorizations?orgID=x&offset=2') return { status: 200, body: page([], '/api/v2/authorizations?orgID=x&offset=2') };
      return undefined;
    });
    try {
      const service = influxdbV2({ url: fake.url, token: TOKEN, org: 'tessera' });
      const all = await service.getAll();
      expect(all.map((t) => t.id)).to.deep.equal(['000000000000000a', '000000000000000b']);
      expect(all[0]).to.deep.equal({ id: '000000000000000a', managed: true, expires: '2030-01-01T00:00:00.000Z', active: true });
    } finally {
      await fake.close();
    }
  });

  it('validates its configuration; the token comes from options or INFLUX_TOKEN and never shows', () => {
    for (const options of [
      { url: 'http://x', token: TOKEN },
      { url: 'nope', token: TOKEN, org: 'o' },
      { url: 'http://x', token: TOKEN, org: 'o', marker: 'has space' },
      { url: 'http://x', token: TOKEN, orgID: 'short' },
      { url: 'http://x', token: TOKEN, org: 'o', extra: TOKEN },
    ]) {
      let err: unknown;
      try {
        influxdbV2(options as never, { env: {} });
      } catch (e) {
        err = e;
      }
      expect(err, JSON.stringify(options)).to.have.property('name', 'InvalidOptionsError');
      expect((err as Error).message).not.to.contain(TOKEN);
    }
    expect(() => influxdbV2({ url: 'http://x', org: 'o' }, { env: {} })).to.throw(/INFLUX_TOKEN/);
    const svc = influxdbV2({ url: 'http://x:8086/', org: 'o' }, { env: { INFLUX_TOKEN: TOKEN } });
    expect(svc.getAddress()).to.equal('http://x:8086 org=o');
    expect(influxdbV2({ url: 'http://x:8086', orgID: ORG_ID, token: TOKEN }).getAddress()).to.equal(`http://x:8086 orgID=${ORG_ID}`);
  });

  it('a server that is not there is CloudUnavailableError', async () => {
    const service = influxdbV2({ url: 'http://127.0.0.1:1', token: TOKEN, org: 'tessera', timeout: 2000 });
    const err = await rejection(service.getAll());
    expect(err.name).to.equal('CloudUnavailableError');
    expect(err.message).not.to.contain(TOKEN);
  });
});

describe('timeouts', () => {
  it('a server that never answers is CloudUnavailableError after the timeout, for v2 and v1', async () => {
    const server = createServer(() => undefined); // accepts, never answers
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    try {
      for (const service of [influxdbV2({ url, token: TOKEN, org: 'tessera', timeout: 200 }), influxdbV1({ url, username: 'admin', password: TOKEN, timeout: 200 })]) {
        // "timed out" is the module's own 200 ms timeout firing: a hang would meet mocha's instead
        const err = await rejection(service.getAll());
        expect(err.name, service.name).to.equal('CloudUnavailableError');
        expect(err.message, service.name).to.match(/timed out/);
      }
    } finally {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    }
  });
});

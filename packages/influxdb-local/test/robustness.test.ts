import { connect } from 'node:net';
import { expect } from 'chai';
import fc from 'fast-check';
import type { InfluxdbLocal } from '../src/index.js';
import { raw, start, stopAll } from './helpers.js';

describe('influxdb-local: what clients send cannot crash it', () => {
  let server: InfluxdbLocal;
  let auth: Record<string, string>;

  before(async () => {
    server = await start({ maxBodyBytes: 64 * 1024 });
    auth = { authorization: `Token ${server.token}`, 'content-type': 'application/json' };
  });
  after(stopAll);
  afterEach(async () => {
    expect((await raw(server.url, 'HEAD', '/ping')).status).to.equal(204);
  });

  it('answers 400 to bodies that are not JSON or not the right shape', async () => {
    for (const body of ['{', 'null', '[]', '"x"', '{"orgID":5,"permissions":"all"}', '{"permissions":[{"action":"write"}]}', '\u0000\u00ff']) {
      for (const path of ['/api/v2/authorizations', '/api/v2/buckets']) {
        const res = await raw(server.url, 'POST', path, auth, body);
        expect(res.status, `${path} ${body}`).to.equal(400);
        expect(JSON.parse(res.body).code).to.equal('invalid');
      }
    }
    const patch = await raw(server.url, 'PATCH', '/api/v2/authorizations/0123456789abcdef', auth, '{"status":');
    expect(patch.status).to.equal(400);
  });

  it('answers any JSON with a 4xx or 2xx, never a 5xx', async () => {
    await fc.assert(
      fc.asyncProperty(fc.constantFrom('/api/v2/authorizations', '/api/v2/buckets'), fc.jsonValue(), async (path, value) => {
        const res = await raw(server.url, 'POST', path, auth, JSON.stringify(value));
        expect(res.status).to.be.within(200, 499);
      }),
      { numRuns: 300 },
    );
  });

  it('answers odd paths, ids, queries and headers in the error shape', async () => {
    const cases: Array<[string, string, Record<string, string>]> = [
      ['GET', '/api/v2/authorizations/%ZZ', auth],
      ['GET', '/api/v2/buckets/' + 'a'.repeat(5000), auth],
      ['GET', '/api/v2/buckets?limit=abc', auth],
      ['GET', '/api/v2/buckets?limit=1000', auth],
      ['GET', '/api/v2/orgs?descending=maybe', auth],
      ['GET', '/api/v2/orgs', { authorization: 'Token' }],
      ['GET', '/api/v2/orgs', { authorization: 'Basic dXNlcjpwYXNz' }],
      ['POST', '/api/v2/write?org=tessera&bucket=tessera&precision=ns', { ...auth, 'content-encoding': 'gzip' }],
      ['DELETE', '/api/v2/authorizations/', auth],
    ];
    for (const [method, path, headers] of cases) {
      const res = await raw(server.url, method, path, headers);
      expect(res.status, `${method} ${path}`).to.be.within(400, 499);
      expect(JSON.parse(res.body)).to.have.keys('code', 'message');
    }
  });

  it('takes random bytes as line protocol with a 400', async () => {
    await fc.assert(
      fc.asyncProperty(fc.uint8Array({ minLength: 1, maxLength: 300 }), async (bytes) => {
        const res = await raw(server.url, 'POST', `/api/v2/write?org=${server.org}&bucket=${server.bucket}`, auth, Buffer.from(bytes));
        expect([204, 400]).to.include(res.status);
      }),
      { numRuns: 200 },
    );
  });

  it('survives a client that goes away in the middle of a body', async () => {
    await new Promise<void>((resolve, reject) => {
      const { port } = new URL(server.url);
      const socket = connect(Number(port), '127.0.0.1', () => {
        socket.write(
          `POST /api/v2/write?org=${server.org}&bucket=${server.bucket} HTTP/1.1\r\nHost: x\r\nAuthorization: Token ${server.token}\r\nContent-Length: 100000\r\n\r\nm v=1 1\n`,
          () => socket.destroy(),
        );
      });
      socket.on('close', () => resolve());
      socket.on('error', reject);
    });
    const garbage = await new Promise<string>((resolve, reject) => {
      const { port } = new URL(server.url);
      const socket = connect(Number(port), '127.0.0.1', () => socket.write('NOT HTTP AT ALL\r\n\r\n'));
      let text = '';
      socket.on('data', (d) => (text += d.toString()));
      socket.on('close', () => resolve(text));
      socket.on('error', reject);
    });
    expect(garbage).to.match(/^HTTP\/1\.1 400/);
  });

  it('goes on serving when its accessLog throws', async () => {
    const seen: string[] = [];
    let both: () => void = () => undefined;
    const logged2 = new Promise<void>((resolve) => (both = resolve));
    const logged = await start({
      accessLog: ({ method, path, status }) => {
        seen.push(`${method} ${path} ${status}`);
        if (seen.length === 2) both();
        throw new Error('the log is broken');
      },
    });
    expect((await raw(logged.url, 'HEAD', '/ping')).status).to.equal(204);
    expect((await raw(logged.url, 'GET', '/health')).status).to.equal(200);
    await logged2;
    expect(seen).to.deep.equal(['HEAD /ping 204', 'GET /health 200']);
  });
});

import { expect } from 'chai';
import { rejection } from '@tessera/testing';
import { influxdbV1 } from '../src/index.js';

const PASSWORD = 'admin-secret-password';
const HOUR = 3_600_000;

/** A fetch that answers every request with `status` and a body built from what it was sent. */
function fakeFetch(answer: (body: string) => { status: number; body: string }, seen: string[] = []): typeof fetch {
  return (async (_url: string | URL | Request, init?: RequestInit) => {
    const sent = init?.body instanceof URLSearchParams ? (init.body.get('q') ?? '') : String(init?.body ?? '');
    seen.push(sent);
    // Until init has run, answer its statements as a healthy server would.
    if (/^SHOW USERS|^CREATE DATABASE/.test(sent)) return new Response('{"results":[{"statement_id":0}]}', { status: 200 });
    if (/^SHOW DATABASES/.test(sent)) return new Response('{"results":[{"statement_id":0,"series":[{"columns":["name"],"values":[["tessera"]]}]}]}', { status: 200 });
    const { status, body } = answer(sent);
    return new Response(body, { status, headers: { 'content-type': 'application/json' } });
  }) as typeof fetch;
}

function service(answer: (body: string) => { status: number; body: string }, seen?: string[]) {
  return influxdbV1({ url: 'http://influx.invalid:8086', username: 'admin', password: PASSWORD }, { fetch: fakeFetch(answer, seen) });
}

const request = () => {
  const issued = new Date();
  return { ttl: HOUR, issued, expires: new Date(issued.getTime() + HOUR), options: {} };
};


describe('influxdb-v1 error mapping', () => {
  it('maps 5xx and 429 to CloudUnavailableError, other 4xx to CloudRejectedError, with status and InfluxDB message', async () => {
    for (const [status, name] of [
      [500, 'CloudUnavailableError'],
      [503, 'CloudUnavailableError'],
      [429, 'CloudUnavailableError'],
      [400, 'CloudRejectedError'],
      [401, 'CloudRejectedError'],
      [403, 'CloudRejectedError'],
      [404, 'CloudNotFoundError'],
    ] as const) {
      const err = await rejection(service(() => ({ status, body: `{"error":"influx says ${status}"}` })).create(request()));
      expect(err.name, String(status)).to.equal(name);
      expect(err.status).to.equal(status);
      expect(err.message).to.contain(`influx says ${status}`);
    }
  });

  it('never puts the new password or the admin password in an error, even when InfluxDB echoes them', async () => {
    const seen: string[] = [];
    const echo = (body: string) => ({ status: 400, body: JSON.stringify({ error: `error parsing query: ${body} (admin ${PASSWORD})` }) });
    const err = await rejection(service(echo, seen).create(request()));
    const create = seen.find((s) => s.startsWith('CREATE USER'))!;
    const password = /PASSWORD '([^']+)'/.exec(create)![1]!;
    expect(err.message).to.contain('[redacted]');
    expect(err.message).not.to.contain(password);
    expect(err.message).not.to.contain(PASSWORD);
    expect(String(err.stack)).not.to.contain(password);
  });

  it('statement errors become typed errors too; a failed GRANT drops the new user', async () => {
    const seen: string[] = [];
    const err = await rejection(
      service((body) => ({ status: 200, body: body.startsWith('GRANT') ? '{"results":[{"statement_id":0,"error":"database not found: tessera"}]}' : '{"results":[{"statement_id":0}]}' }), seen).create(request()),
    );
    expect(err.name).to.equal('CloudRejectedError');
    expect(err.message).to.contain('database not found');
    expect(seen.some((s) => s.startsWith('DROP USER'))).to.equal(true);
  });

  it('a network failure is CloudUnavailableError', async () => {
    const failing = (async () => {
      throw new TypeError('fetch failed', { cause: Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:1'), { code: 'ECONNREFUSED', syscall: 'connect' }) });
    }) as typeof fetch;
    const svc = influxdbV1({ url: 'http://127.0.0.1:1', username: 'admin', password: PASSWORD }, { fetch: failing });
    const err = await rejection(svc.getAll());
    expect(err.name).to.equal('CloudUnavailableError');
    expect(err.message).to.contain('ECONNREFUSED');
  });

  it('rejects bad configuration with InvalidOptionsError that does not echo the password', () => {
    for (const options of [
      { url: 'ftp://x', username: 'a', password: PASSWORD },
      { url: 'http://x', username: 'a', password: PASSWORD, marker: 'has_underscore' },
      { url: 'http://x', username: 'a', password: PASSWORD, grants: [{ database: 'x', privilege: 'DROP' }] },
      { url: 'http://x', username: 'a', password: PASSWORD, unknown: PASSWORD },
      { url: 'http://x', username: 'a', password: 42 },
    ]) {
      let err: unknown;
      try {
        influxdbV1(options as never, { env: {} });
      } catch (e) {
        err = e;
      }
      expect(err).to.have.property('name', 'InvalidOptionsError');
      expect((err as Error).message).not.to.contain(PASSWORD);
    }
    expect(() => influxdbV1({ url: 'http://x' }, { env: {} })).to.throw(/admin username and password/);
    expect(influxdbV1({ url: 'http://x/' }, { env: { INFLUX_USERNAME: 'a', INFLUX_PASSWORD: 'b' } }).getAddress()).to.equal('http://x');
  });
});

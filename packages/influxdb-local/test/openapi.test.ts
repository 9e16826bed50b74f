import { readFileSync } from 'node:fs';
import { createServer, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { expect } from 'chai';
import { fullFormats } from 'ajv-formats/dist/formats.js';
import { OpenAPIBackend, type Operation } from 'openapi-backend';
import type { InfluxdbLocal } from '../src/index.js';
import { apis, bucketPermissions, httpError, raw, start, stopAll, write } from './helpers.js';

// vendored with its license (test/contract/); INFLUXDB_OPENAPI can point at another version
const CONTRACT = process.env.INFLUXDB_OPENAPI ?? fileURLToPath(new URL('./contract/influxdb-v2-oss-openapi.json', import.meta.url));

interface Exchange {
  method: string;
  path: string;
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

/** A pass-through proxy that records every response, so the official clients can drive the server while we look at the wire. */
async function recordingProxy(target: string): Promise<{ url: string; exchanges: Exchange[]; close(): Promise<void> }> {
  const exchanges: Exchange[] = [];
  const server: Server = createServer((req, res) => {
    const upstream = request(new URL(req.url ?? '/', target), { method: req.method, headers: req.headers }, (up) => {
      const chunks: Buffer[] = [];
      up.on('data', (c: Buffer) => chunks.push(c));
      up.on('end', () => {
        const body = Buffer.concat(chunks);
        exchanges.push({ method: req.method ?? 'GET', path: req.url ?? '/', status: up.statusCode ?? 0, headers: up.headers, body: body.toString('utf8') });
        res.writeHead(up.statusCode ?? 502, up.headers);
        res.end(body);
      });
    });
    upstream.on('error', () => res.destroy());
    req.pipe(upstream);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    exchanges,
    close: () => new Promise((resolve) => { server.close(() => resolve()); server.closeAllConnections(); }),
  };
}

/** Every endpoint with the statuses this test must see answered (and validated). */
const EXPECTED: Record<string, number[]> = {
  'get /health': [200],
  'get /ping': [204],
  'head /ping': [204],
  'get /orgs': [200, 400, 401, 404],
  'get /orgs/{orgID}': [200, 400, 401, 404],
  'get /buckets': [200, 400, 401, 404],
  'post /buckets': [201, 400, 401, 404, 422],
  'get /buckets/{bucketID}': [200, 400, 401, 404],
  'get /authorizations': [200, 400, 401, 404],
  'post /authorizations': [201, 400, 401, 403],
  'get /authorizations/{authID}': [200, 400, 401, 404],
  'patch /authorizations/{authID}': [200, 400, 401, 404],
  'delete /authorizations/{authID}': [204, 400, 401, 404],
  'post /write': [204, 400, 401, 403, 404, 413],
};

describe('influxdb-local: every response fits the InfluxDB OpenAPI contract', function () {
  this.timeout(30_000);
  let server: InfluxdbLocal;
  let proxy: Awaited<ReturnType<typeof recordingProxy>>;
  let api: OpenAPIBackend;
  let contract: { paths: Record<string, Record<string, { responses: Record<string, { content?: Record<string, { examples?: Record<string, { value: unknown }> }> }> }>> };

  before(async () => {
    contract = JSON.parse(readFileSync(CONTRACT, 'utf8'));
    // quick: the contract itself has a few schema-level defects that a full document check rejects;
    // validators are still built from it, with every $ref resolved.
    api = new OpenAPIBackend({
      definition: JSON.parse(readFileSync(CONTRACT, 'utf8')),
      quick: true,
      strict: false,
      customizeAjv: (ajv) => {
        for (const [name, format] of Object.entries(fullFormats)) ajv.addFormat(name, format);
        // Links are typed format "uri", but the contract's own examples (and the real server)
        // use relative references such as "/api/v2/buckets?org=x": check them as uri-references.
        ajv.addFormat('uri', fullFormats['uri-reference']);
        return ajv;
      },
    });
    await api.init();
    server = await start({ maxBodyBytes: 2_000 });
    proxy = await recordingProxy(server.url);
  });
  after(async () => {
    await proxy.close();
    await stopAll();
  });

  it('drives every endpoint through the official clients (and by hand where they cannot)', async () => {
    const op = apis(proxy, server.token);
    const nobody = apis(proxy, 'no-such-token');
    const unknownId = '0123456789abcdef';
    const hand = (method: string, path: string, headers: Record<string, string> = {}, body?: string | Buffer) =>
      raw(proxy.url, method, path, { authorization: `Token ${server.token}`, ...headers }, body);

    await hand('GET', '/health');
    await hand('GET', '/ping');
    await hand('HEAD', '/ping');

    await op.orgs.getOrgs();
    await op.orgs.getOrgs({ org: server.org });
    await httpError(op.orgs.getOrgs({ org: 'nope' }));
    await httpError(op.orgs.getOrgs({ orgID: 'bad' }));
    await httpError(nobody.orgs.getOrgs());
    await op.orgs.getOrgsID({ orgID: server.orgID });
    await httpError(op.orgs.getOrgsID({ orgID: unknownId }));
    await httpError(op.orgs.getOrgsID({ orgID: 'bad' }));
    await httpError(nobody.orgs.getOrgsID({ orgID: server.orgID }));

    const bucket = await op.buckets.postBuckets({ body: { orgID: server.orgID, name: 'contract', description: 'd', retentionRules: [{ type: 'expire', everySeconds: 7200 }] } });
    await httpError(op.buckets.postBuckets({ body: { orgID: server.orgID, name: 'contract', retentionRules: [] } }));
    await httpError(op.buckets.postBuckets({ body: { orgID: server.orgID, name: '_bad', retentionRules: [] } }));
    await httpError(op.buckets.postBuckets({ body: { orgID: unknownId, name: 'x', retentionRules: [] } }));
    await httpError(nobody.buckets.postBuckets({ body: { orgID: server.orgID, name: 'x', retentionRules: [] } }));
    await op.buckets.getBuckets();
    await op.buckets.getBuckets({ orgID: server.orgID, name: 'contract' });
    await op.buckets.getBuckets({ org: server.org, limit: 1, offset: 1 });
    await httpError(op.buckets.getBuckets({ org: 'nope' }));
    await httpError(op.buckets.getBuckets({ id: 'bad' }));
    await httpError(nobody.buckets.getBuckets());
    await op.buckets.getBucketsID({ bucketID: bucket.id! });
    await httpError(op.buckets.getBucketsID({ bucketID: unknownId }));
    await httpError(op.buckets.getBucketsID({ bucketID: 'bad' }));
    await httpError(nobody.buckets.getBucketsID({ bucketID: bucket.id! }));

    const device = await op.auths.postAuthorizations({ body: { orgID: server.orgID, description: 'device', permissions: bucketPermissions(server.orgID, bucket.id, ['read', 'write']) } });
    const reader = await op.auths.postAuthorizations({ body: { orgID: server.orgID, permissions: bucketPermissions(server.orgID, undefined, ['read']) } });
    const manager = await op.auths.postAuthorizations({
      body: { orgID: server.orgID, permissions: [{ action: 'write', resource: { type: 'authorizations', orgID: server.orgID } }] },
    });
    await httpError(op.auths.postAuthorizations({ body: { orgID: server.orgID, permissions: [] } }));
    await httpError(nobody.auths.postAuthorizations({ body: { orgID: server.orgID, permissions: bucketPermissions(server.orgID) } }));
    await httpError(apis(proxy, manager.token!).auths.postAuthorizations({ body: { orgID: server.orgID, permissions: bucketPermissions(server.orgID) } }));
    await op.auths.getAuthorizations();
    await op.auths.getAuthorizations({ org: server.org, user: 'admin' });
    await httpError(op.auths.getAuthorizations({ orgID: 'bad' }));
    await httpError(op.auths.getAuthorizations({ org: 'nope' }));
    await httpError(nobody.auths.getAuthorizations());
    await op.auths.getAuthorizationsID({ authID: device.id! });
    await httpError(op.auths.getAuthorizationsID({ authID: unknownId }));
    await httpError(op.auths.getAuthorizationsID({ authID: 'bad' }));
    await httpError(nobody.auths.getAuthorizationsID({ authID: device.id! }));
    await op.auths.patchAuthorizationsID({ authID: reader.id!, body: { status: 'inactive', description: 'off' } });
    await httpError(op.auths.patchAuthorizationsID({ authID: reader.id!, body: { status: 'paused' as 'active' } }));
    await httpError(op.auths.patchAuthorizationsID({ authID: unknownId, body: { status: 'active' } }));
    await httpError(nobody.auths.patchAuthorizationsID({ authID: reader.id!, body: { status: 'active' } }));

    const into = { org: server.org, bucket: 'contract' };
    await write(proxy, device.token!, ['m,t=a v=1 1'], into);
    await write(proxy, device.token!, Array.from({ length: 30 }, (_, i) => `m,t=a v=${i} ${i}`), { ...into, gzipThreshold: 0 });
    await httpError(write(proxy, device.token!, ['m v='], into));
    await httpError(write(proxy, device.token!, ['m v=1'], { ...into, precision: 'h' as 's' }));
    await hand('POST', `/api/v2/write?bucket=contract`, {}, 'm v=1');
    await hand('POST', `/api/v2/write?org=${server.org}&bucket=contract`, { 'content-encoding': 'gzip' }, gzipSync('m v=1 1'));
    await httpError(write(proxy, 'no-such-token', ['m v=1'], into));
    await httpError(write(proxy, reader.token!, ['m v=1'], into));
    await httpError(write(proxy, device.token!, ['m v=1'], { org: 'nope', bucket: 'contract' }));
    await httpError(write(proxy, device.token!, ['m v=1'], { org: server.org, bucket: 'nope' }));
    await httpError(write(proxy, device.token!, Array.from({ length: 200 }, (_, i) => `m v=${i} ${i}`), into));

    await op.auths.deleteAuthorizationsID({ authID: device.id! });
    await httpError(op.auths.deleteAuthorizationsID({ authID: device.id! }));
    await httpError(op.auths.deleteAuthorizationsID({ authID: 'bad' }));
    await httpError(nobody.auths.deleteAuthorizationsID({ authID: reader.id! }));
  });

  it('has a validator that rejects what the contract forbids', () => {
    const getAuth = api.router.getOperation('GetAuthorizationsID')!;
    const permissions = [{ action: 'read', resource: { type: 'buckets' } }];
    expect(api.validator.validateResponse({ orgID: 'x', permissions }, getAuth, 200).valid).to.equal(true);
    expect(api.validator.validateResponse({ code: 'nope', message: 'x' }, getAuth, 404).valid).to.equal(false);
    expect(api.validator.validateResponse({ orgID: 'x', permissions, createdAt: 'yesterday' }, getAuth, 200).valid).to.equal(false);
    expect(api.validator.validateResponse({ orgID: 'x', permissions: [] }, getAuth, 200).valid).to.equal(false);
  });

  it('answered each of those with a status, headers and body the contract allows', () => {
    const seen: Record<string, Set<number>> = {};
    for (const x of proxy.exchanges) {
      const path = new URL(x.path, 'http://x').pathname.replace(/^\/api\/v2(?=\/)/, '');
      const operation = api.router.matchOperation({ method: x.method.toLowerCase(), path, headers: {}, query: {} }) as Operation | undefined;
      const where = `${x.method} ${x.path} → ${x.status}`;
      expect(operation, where).to.not.equal(undefined);
      const key = `${operation!.method} ${operation!.path}`;
      (seen[key] ??= new Set()).add(x.status);

      const declared = operation!.responses?.[String(x.status)] ?? operation!.responses?.[`${Math.floor(x.status / 100)}XX`] ?? operation!.responses?.default;
      expect(declared, `${where}: status not in the contract`).to.not.equal(undefined);
      const json = x.body === '' ? null : (JSON.parse(x.body) as unknown);
      if (json !== null || x.status !== 204) {
        expect(x.headers['content-type'], where).to.equal('application/json; charset=utf-8');
      }
      if (x.status >= 400) {
        expect(x.headers['x-platform-error-code'], where).to.equal((json as { code: string }).code);
      }
      if (x.status === 413 && operation!.operationId === 'PostWrite') {
        // The contract's schema for this 413 allows only code "invalid", yet its own example for
        // InfluxDB OSS (and the real server) says "request too large": we match the example.
        const example = contract.paths['/write']!.post!.responses['413']!.content!['application/json']!.examples!.dataExceedsSizeLimitOSS!.value;
        expect(json, where).to.deep.equal(JSON.parse(String(example)));
        continue;
      }
      const result = api.validator.validateResponse(json, operation!, x.status);
      expect(result.errors ?? [], `${where}: ${x.body}`).to.deep.equal([]);
      if (operation!.path === '/ping') {
        // The contract types X-Influxdb-Version as an integer; the real server sends "v2.7.x", as we do.
        expect(x.headers['x-influxdb-build'], where).to.equal('OSS');
        expect(x.headers['x-influxdb-version'], where).to.match(/^v2\.7\./);
      }
    }
    const seenSorted = Object.fromEntries(Object.entries(seen).map(([k, v]) => [k, [...v].sort((a, b) => a - b)]));
    expect(seenSorted).to.deep.equal(EXPECTED);
  });

  it('was reached on every route it serves but the non-standard read-back', () => {
    const unreached = Object.entries(server.stats()).filter(([route, n]) => n === 0 && !route.includes('/api/v2/local/'));
    expect(unreached).to.deep.equal([]);
  });
});

// Token create+revoke per second through each cloud-influxdb module, against the same
// work done with bare HTTP requests (node:http, keep-alive) on the same server: the ratio is the cost
// of the module (validation, bucket resolution, marker, error mapping, metadata).
// v2 runs against @tessera/influxdb-local, v1 against a real influxd (skipped if absent).
// Each figure is the median of REPEATS runs, module and bare requests taking turns.
import { randomBytes } from 'node:crypto';
import { Agent, request } from 'node:http';
import { influxdbV1, influxdbV2 } from '@tessera/cloud-influxdb';
import { startInfluxdbLocal } from '@tessera/influxdb-local';
import { InfluxdMissingError, startInfluxd } from '@tessera/testing';
import type { CloudService } from '@tessera/token-lease';
import { median, REPEATS, report } from './report.js';

const SECONDS = Number(process.env.BENCH_SECONDS ?? 2);
const HOUR = 3_600_000;

/** Medians over REPEATS runs of `ours` and `bare` (SECONDS each, taking turns). */
async function compare(ours: () => Promise<void>, bare: () => Promise<void>, concurrency: number): Promise<{ value: number; baselineValue: number }> {
  const values: number[] = [];
  const baselines: number[] = [];
  for (let run = 0; run < REPEATS; run++) {
    baselines.push(await rate(bare, SECONDS, concurrency));
    values.push(await rate(ours, SECONDS, concurrency));
  }
  return { value: median(values), baselineValue: median(baselines) };
}

/** Runs `op` with `concurrency` loops for `seconds`; operations per second. */
async function rate(op: () => Promise<void>, seconds: number, concurrency: number): Promise<number> {
  const until = performance.now() + seconds * 1000;
  let done = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (performance.now() < until) {
        await op();
        done += 1;
      }
    }),
  );
  return done / ((performance.now() - started) / 1000);
}

const agent = new Agent({ keepAlive: true });

/** One bare node:http request on a keep-alive agent (what the official client also uses); the body. */
function send(url: string, method: string, headers: Record<string, string>, body?: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method, headers, agent }, (res) => {
      let text = '';
      res.setEncoding('utf8').on('data', (chunk: string) => (text += chunk));
      res.on('end', () => {
        const status = res.statusCode ?? 0;
        if (status >= 300 || text.includes('"error"')) reject(new Error(`${method} ${url}: ${status} ${text.slice(0, 200)}`));
        else resolve(text);
      });
    });
    req.on('error', reject);
    req.end(body);
  });
}

function moduleCycle(service: CloudService): () => Promise<void> {
  return async () => {
    const issued = new Date();
    const lease = await service.create({ ttl: HOUR, issued, expires: new Date(issued.getTime() + HOUR), options: {} });
    await service.revoke(lease.id);
  };
}

async function benchV2(): Promise<void> {
  const token = randomBytes(64).toString('base64url');
  const server = await startInfluxdbLocal({ port: 0, org: 'tessera', bucket: 'tessera', token });
  try {
    const service = influxdbV2({ url: server.url, token, org: server.org, permissions: [{ action: 'write', bucket: server.bucket }] });
    await service.init();
    const headers = { authorization: `Token ${token}`, 'content-type': 'application/json' };
    const body = JSON.stringify({
      orgID: server.orgID,
      description: 'bench',
      permissions: [{ action: 'write', resource: { type: 'buckets', id: server.bucketID, orgID: server.orgID } }],
    });
    const bare = async (): Promise<void> => {
      const created = JSON.parse(await send(`${server.url}/api/v2/authorizations`, 'POST', headers, body)) as { id: string };
      await send(`${server.url}/api/v2/authorizations/${created.id}`, 'DELETE', headers);
    };
    const concurrency = 4;
    await rate(bare, 0.5, concurrency); // warm up both paths
    await rate(moduleCycle(service), 0.5, concurrency);
    report({
      name: `cloud-influxdb v2 create+revoke (influxdb-local in this process, ${concurrency} in flight)`,
      ...(await compare(moduleCycle(service), bare, concurrency)),
      unit: 'ops/s',
      baseline: `bare node:http (keep-alive) POST+DELETE /api/v2/authorizations, same body, ${concurrency} in flight, same process and server`,
      repeats: REPEATS,
    });
  } finally {
    await server.close();
  }
}

async function benchV1(): Promise<void> {
  let influxd;
  try {
    influxd = await startInfluxd();
  } catch (err) {
    if (err instanceof InfluxdMissingError) {
      process.stderr.write(`# skipping v1: ${err.message}\n`);
      return;
    }
    throw err;
  }
  try {
    const authorization = `Basic ${Buffer.from(`${influxd.adminUser}:${influxd.adminPassword}`).toString('base64')}`;
    const form = { authorization, 'content-type': 'application/x-www-form-urlencoded' };
    const query = async (q: string, db?: string): Promise<void> => {
      await send(`${influxd.url}/query`, 'POST', form, new URLSearchParams(db === undefined ? { q } : { q, db }).toString());
    };
    await query('CREATE DATABASE "tessera"');
    const service = influxdbV1({ url: influxd.url, username: influxd.adminUser, password: influxd.adminPassword });
    await service.init();
    const bare = async (): Promise<void> => {
      const name = `bench_${randomBytes(8).toString('hex')}`;
      await query(`CREATE USER "${name}" WITH PASSWORD '${randomBytes(32).toString('base64url')}'`);
      await query(`GRANT WRITE ON "tessera" TO "${name}"`);
      await query(`DROP USER "${name}"`);
      // revoke also drops the lease's metadata series (renew writes it), as the module does
      await query(`DROP SERIES FROM "tessera_lease" WHERE "id" = '${name}'`, 'tessera_leases');
    };
    // CREATE USER is a bcrypt hash inside influxd: that, not HTTP, sets the pace.
    const concurrency = 2;
    await rate(bare, 0.3, concurrency);
    await rate(moduleCycle(service), 0.3, concurrency);
    report({
      name: `cloud-influxdb v1 create+revoke (influxd 1.x, ${concurrency} in flight)`,
      ...(await compare(moduleCycle(service), bare, concurrency)),
      unit: 'ops/s',
      baseline: `bare node:http (keep-alive) CREATE USER + GRANT WRITE + DROP USER + DROP SERIES (the module's statements), ${concurrency} in flight, same influxd`,
      repeats: REPEATS,
    });
  } finally {
    await influxd.stop();
  }
}

await benchV2();
await benchV1();

// Two deployments (each a hub with its own storage) on one InfluxDB: neither may
// take the other's live tokens for orphans, nor tokens Tessera did not make; a
// token of the format without a deployment is swept only by a service that adopts them.
import { randomBytes } from 'node:crypto';
import { expect } from 'chai';
import { InfluxDB } from '@influxdata/influxdb-client';
import { AuthorizationsAPI, BucketsAPI } from '@influxdata/influxdb-client-apis';
import { type InfluxdbLocal, startInfluxdbLocal } from '@tessera/influxdb-local';
import type { RunningInfluxd } from '@tessera/testing';
import { type CloudService, LeaseService, memoryStorage, ttlPolicy } from '@tessera/token-lease';
import { influxdbV1, influxdbV2 } from '../src/index.js';
import { adminQuery, influxdOrSkip } from './helpers.js';

const HOUR = 3_600_000;
const ADMIN = { owner: 'test', admin: true };

interface Target {
  /** A cloud service of `deployment` on this server. */
  cloud(deployment: string, adoptLegacyTokens?: boolean): CloudService;
  /** A token made by hand (not by Tessera), and one in the format without a deployment. */
  foreign(): Promise<{ handMade: string; legacy: string }>;
  close(): Promise<void>;
}

function service(cloud: CloudService): LeaseService {
  // orphanGrace 0: a token without a lease is an orphan at once (nothing is being created here)
  return new LeaseService({ cloud, storage: memoryStorage(), policy: ttlPolicy({ maxTtl: 2 * HOUR }), orphanGrace: 0, reconcileEvery: 0 });
}

function suite(label: string, start: (ctx: Mocha.Context) => Promise<Target>): void {
  describe(`two deployments on one ${label}`, function () {
    this.timeout(60_000);
    let target: Target;
    const services: LeaseService[] = [];
    const started = async (cloud: CloudService) => {
      const s = service(cloud);
      services.push(s);
      await s.start();
      return s;
    };

    before(async function () {
      target = await start(this);
    });
    after(async () => {
      await target?.close();
    });
    afterEach(async () => {
      for (const s of services.splice(0)) await s.stop();
    });

    it('each sweeps only its own orphans: the other’s live tokens, hand-made and legacy ones stay', async () => {
      const observer = target.cloud('observer');
      const exists = async (id: string) => (await observer.get(id)) !== undefined;
      const alpha = await started(target.cloud('alpha'));
      const live = await Promise.all([1, 2, 3].map(() => alpha.create(ADMIN, { ttl: HOUR })));
      const { handMade, legacy } = await target.foreign();

      const beta = await started(target.cloud('beta'));
      // beta's own orphan: a token of its deployment that its storage does not know
      const betaOrphan = await beta.cloud.create({ ttl: HOUR, issued: new Date(), expires: new Date(Date.now() + HOUR), options: {} });

      expect(await beta.reconcile(), 'beta revokes its own orphan only').to.equal(1);
      expect(await exists(betaOrphan.id)).to.equal(false);
      for (const lease of live) expect(await exists(lease.id), `alpha's ${lease.id}`).to.equal(true);
      expect(await exists(handMade), 'the hand-made token').to.equal(true);
      expect(await exists(legacy), 'the legacy token (not adopted)').to.equal(true);

      // alpha's sweep finds its leases in its storage, and leaves the rest alone too
      expect(await alpha.reconcile()).to.equal(0);
      expect((await alpha.list(ADMIN)).length).to.equal(3);

      // a service that adopts legacy tokens sweeps the legacy one, still nothing of alpha's or by hand
      const adopting = await started(target.cloud('beta', true));
      expect(await adopting.reconcile()).to.equal(1);
      expect(await exists(legacy)).to.equal(false);
      for (const lease of live) expect(await exists(lease.id)).to.equal(true);
      expect(await exists(handMade)).to.equal(true);

      for (const lease of live) await alpha.revoke(ADMIN, lease.id);
      for (const lease of live) expect(await exists(lease.id)).to.equal(false);
    });
  });
}

suite('influxdb-local (v2)', async () => {
  const token = randomBytes(32).toString('base64url');
  const server: InfluxdbLocal = await startInfluxdbLocal({ port: 0, org: 'tessera', bucket: 'tessera', token });
  const influx = new InfluxDB({ url: server.url, token });
  const authorizations = new AuthorizationsAPI(influx);
  return {
    cloud: (deployment, adoptLegacyTokens = false) => influxdbV2({ url: server.url, token, org: server.org, deployment, adoptLegacyTokens }),
    async foreign() {
      const bucket = (await new BucketsAPI(influx).getBuckets({ name: server.bucket })).buckets![0]!;
      const make = async (description: string) =>
        (
          await authorizations.postAuthorizations({
            body: { orgID: bucket.orgID!, description, permissions: [{ action: 'write', resource: { type: 'buckets', id: bucket.id!, orgID: bucket.orgID! } }] },
          })
        ).id!;
      return { handMade: await make('grafana writer'), legacy: await make('tessera-lease v1 expires=2030-01-01T00:00:00.000Z') };
    },
    close: () => server.close(),
  };
});

suite('influxd 1.x', async (ctx) => {
  const influxd: RunningInfluxd = await influxdOrSkip(ctx);
  await adminQuery(influxd, 'CREATE DATABASE "tessera"');
  return {
    cloud: (deployment, adoptLegacyTokens = false) =>
      influxdbV1({ url: influxd.url, username: influxd.adminUser, password: influxd.adminPassword, deployment, adoptLegacyTokens }),
    async foreign() {
      const legacy = 'tessera-lease_0123456789abcdef_20300101T000000.000Z';
      await adminQuery(influxd, `CREATE USER "grafana" WITH PASSWORD 'grafana-password'`);
      await adminQuery(influxd, `CREATE USER "${legacy}" WITH PASSWORD 'legacy-password'`);
      return { handMade: 'grafana', legacy };
    },
    close: () => influxd.stop(),
  };
});

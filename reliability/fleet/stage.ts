// What every fleet scenario stands on: a redis-server of its own, influxdb-local, an admin
// identity and a secure `tessera hub` on that Redis naming it admin, in a scratch directory.
// `withStage` tears it all down (every process by its PID) whatever happens, after putting
// every secret the fleets learned into the evidence.
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AccessLogEntry } from '@tessera/influxdb-local';
import { type RedisServer, startRedisServer } from '@tessera/testing';
import type { Evidence } from '../evidence.js';
import { type InfluxdbLocalProcess, type SecureHubProcess, startInfluxdbLocal, startSecureHub, stopAll } from '../processes.js';
import { FleetAdmin } from './admin.js';
import { Fleet, type FleetOptions, registerFleetSecrets } from './fleet.js';
import { FleetRecord } from './fleet-record.js';

export interface StageOptions {
  /** More `tessera hub` arguments (quotas, TTLs, --orphan-grace). */
  hubArgs?: string[];
  /** Redis keeps its data across a restart (append-only file, fsync always). */
  redisPersistence?: boolean;
  /** influxdb-local keeps its tokens in a file across a restart. */
  influxPersistence?: boolean;
  /** influxdb-local's access log, across its restarts. */
  influxAccessLog?: (entry: AccessLogEntry) => void;
}

export interface Stage {
  dir: string;
  redis: RedisServer;
  influx: InfluxdbLocalProcess;
  hub: SecureHubProcess;
  admin: FleetAdmin;
  /** What every fleet's devices reported. */
  record: FleetRecord;
  /** Starts a fleet on this stage's hub (its devices in `dir/fleets/<name>`). */
  fleet(options: Pick<FleetOptions, 'name' | 'devices' | 'first' | 'processes' | 'behaviour' | 'maxMs' | 'requestTimeout' | 'attributes' | 'nice'>): Promise<Fleet>;
  /** Restarts the hub (same identity, ports, Redis): after a kill. */
  restartHub(): Promise<SecureHubProcess>;
  /** Restarts influxdb-local (same port, token and persist file): after it was stopped. */
  restartInflux(): Promise<InfluxdbLocalProcess>;
}

/** Runs `body` on a fresh stage; every process is stopped and the directory removed afterwards. */
export async function withStage(evidence: Evidence, options: StageOptions, body: (stage: Stage) => Promise<void>): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'tessera-reliability-'));
  const fleets = join(dir, 'fleets');
  let redis: RedisServer | undefined;
  let admin: FleetAdmin | undefined;
  try {
    redis = await startRedisServer({ persistence: options.redisPersistence === true });
    let influx = await startInfluxdbLocal(evidence, randomBytes(24).toString('hex'), {
      ...(options.influxPersistence === true ? { persist: join(dir, 'influx.json') } : {}),
      ...(options.influxAccessLog === undefined ? {} : { accessLog: options.influxAccessLog }),
    });
    admin = await FleetAdmin.create(evidence, dir);
    const hubOptions = { dir, storage: redis.url, influx: { url: influx.url, token: influx.token }, admins: [admin.identifier], args: options.hubArgs ?? [] };
    let hub = await startSecureHub(evidence, hubOptions);
    admin.connect(hub.url, hub.identifier);
    const record = new FleetRecord();
    const stage: Stage = {
      dir,
      redis,
      get influx() {
        return influx;
      },
      get hub() {
        return hub;
      },
      admin,
      record,
      fleet: (o) => Fleet.start(evidence, record, { ...o, dir: fleets, hub: { url: hub.url, identifier: hub.identifier }, influx: { url: influx.url }, admin: admin! }),
      restartHub: async () => (hub = await hub.restart()),
      restartInflux: async () => (influx = await influx.restart()),
    };
    await body(stage);
  } finally {
    admin?.close();
    await stopAll();
    await redis?.stop();
    if (existsSync(fleets)) for (const name of readdirSync(fleets)) registerFleetSecrets(evidence, join(fleets, name));
    rmSync(dir, { recursive: true, force: true });
  }
}

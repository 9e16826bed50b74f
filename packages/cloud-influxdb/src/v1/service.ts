import { randomBytes } from 'node:crypto';
import {
  leaseFor,
  CloudNotFoundError,
  CloudRejectedError,
  InvalidOptionsError,
  NotAllowedError,
  type CloudCreateRequest,
  type CloudService,
  type CloudToken,
  type Lease,
  type Privilege,
  type RequestedPrivilege,
} from '@tessera/token-lease';
import { CONTROL_CHARACTERS, escapeTag, quoteField, quoteIdentifier, quoteString } from '../influxql.js';
import { parseOptions } from '../options.js';
import { InfluxqlHttp } from './http.js';
import type { Ownership } from '../deployment.js';
import { parseOwnedUserName, parseUserName, userName } from './names.js';
import { InfluxdbV1OptionsSchema, V1CreateOptionsSchema, type Grant, type InfluxdbV1Config, type InfluxdbV1Options } from './options.js';

const NAME = 'influxdb-v1';
/** Measurement in the metadata database: one point per renewed lease, tag `id`, field `expires`. */
const MEASUREMENT = 'tessera_lease';

/** What `influxdbV1` takes besides its options (tests hand in fakes). */
export interface InfluxdbV1Components {
  fetch?: typeof fetch;
  randomBytes?: (size: number) => Uint8Array;
  env?: Record<string, string | undefined>;
}

/**
 * A CloudService for InfluxDB 1.x: a lease is a user with a random password and
 * GRANTs on databases; its value is `username:password` (HTTP Basic auth, or the
 * `u`/`p` query parameters, on /write and /query).
 */
export function influxdbV1(options: InfluxdbV1Options, components: InfluxdbV1Components = {}): CloudService {
  const config = parseOptions(InfluxdbV1OptionsSchema, options, 'influxdb-v1 options');
  const env = components.env ?? process.env;
  const username = config.username ?? env.INFLUX_USERNAME;
  const password = config.password ?? env.INFLUX_PASSWORD;
  if (username === undefined || password === undefined) {
    throw new InvalidOptionsError('invalid influxdb-v1 options: an admin username and password are required (options or INFLUX_USERNAME/INFLUX_PASSWORD)');
  }
  checkGrants(config, config.grants);
  const http = new InfluxqlHttp({ url: config.url, username, password, timeout: config.timeout, fetch: components.fetch ?? fetch, service: NAME });
  return new InfluxdbV1Service(config, http, components.randomBytes ?? randomBytes);
}

class InfluxdbV1Service implements CloudService {
  readonly name = NAME;
  readonly #config: InfluxdbV1Config;
  readonly #http: InfluxqlHttp;
  readonly #random: (size: number) => Uint8Array;
  readonly #ours: Ownership;
  #ready: Promise<void> | undefined;

  constructor(config: InfluxdbV1Config, http: InfluxqlHttp, random: (size: number) => Uint8Array) {
    this.#config = config;
    this.#ours = { marker: config.marker, deployment: config.deployment, adoptLegacy: config.adoptLegacyTokens };
    this.#http = http;
    this.#random = random;
  }

  getAddress(): string {
    return this.#config.url;
  }

  init(): Promise<void> {
    this.#ready ??= this.#init().catch((err: unknown) => {
      this.#ready = undefined;
      throw err;
    });
    return this.#ready;
  }

  async #init(): Promise<void> {
    // SHOW USERS needs admin: this checks the credentials before anything changes.
    await this.#http.query('SHOW USERS', 'SHOW USERS');
    const result = await this.#http.query('SHOW DATABASES', 'SHOW DATABASES');
    const existing = new Set((result.series?.[0]?.values ?? []).map((row) => String(row[0])));
    const missing = this.#config.grants.map((g) => g.database).filter((db) => !existing.has(db));
    if (missing.length > 0) throw new InvalidOptionsError(`influxdb-v1: configured databases do not exist: ${missing.map((d) => JSON.stringify(d)).join(', ')}`);
    await this.#http.query(`CREATE DATABASE ${quoteIdentifier(this.#config.metaDatabase)}`, 'CREATE DATABASE (metadata)');
  }

  async requestedPrivileges(options: Record<string, unknown>): Promise<RequestedPrivilege[] | undefined> {
    const requested = parseOptions(V1CreateOptionsSchema, options, 'influxdb-v1 create options');
    if (requested.grants === undefined) return undefined;
    return requested.grants.flatMap((grant) => {
      if (grant.database === this.#config.metaDatabase) throw new NotAllowedError('influxdb-v1: the metadata database is never granted');
      const asked = `database ${JSON.stringify(grant.database.slice(0, 64))}${grant.privilege === 'ALL' ? ' (ALL)' : ''}`;
      return privilegesOfGrant(grant).map((p) => ({ ...p, asked }));
    });
  }

  async create(request: CloudCreateRequest): Promise<Lease> {
    await this.init();
    let privileges: Privilege[];
    if (request.privileges !== undefined) {
      // the hub decided (docs/protocol.md §4): exactly these, whatever the options say
      privileges = request.privileges;
    } else {
      const requested = parseOptions(V1CreateOptionsSchema, request.options, 'influxdb-v1 create options');
      privileges = (requested.grants ?? this.#config.grants).flatMap(privilegesOfGrant);
    }
    const grants = grantsOf(privileges);
    if (grants.length === 0) throw new InvalidOptionsError('influxdb-v1: a lease needs at least one grant');
    checkGrants(this.#config, grants);
    const id = userName(this.#config.marker, this.#config.deployment, Buffer.from(this.#random(8)).toString('hex'), request.expires);
    const secret = Buffer.from(this.#random(32)).toString('base64url');
    await this.#http.query(`CREATE USER ${quoteIdentifier(id)} WITH PASSWORD ${quoteString(secret)}`, 'CREATE USER', { secrets: [secret] });
    try {
      for (const grant of grants) {
        await this.#http.query(`GRANT ${grant.privilege} ON ${quoteIdentifier(grant.database)} TO ${quoteIdentifier(id)}`, 'GRANT');
      }
    } catch (err) {
      // A user without its grants is of no use to anyone: undo it now rather than leave an orphan.
      await this.#http.query(`DROP USER ${quoteIdentifier(id)}`, 'DROP USER').catch(() => undefined);
      throw err;
    }
    return leaseFor(request, id, `${id}:${secret}`);
  }

  async revoke(tokenId: string): Promise<void> {
    await this.init();
    this.#assertManaged(tokenId);
    try {
      await this.#http.query(`DROP USER ${quoteIdentifier(tokenId)}`, 'DROP USER');
    } catch (err) {
      if (!(err instanceof CloudNotFoundError)) throw err;
    }
    await this.#http.query(`DROP SERIES FROM ${quoteIdentifier(MEASUREMENT)} WHERE "id" = ${quoteString(tokenId)}`, 'DROP SERIES (metadata)', {
      db: this.#config.metaDatabase,
    });
  }

  async renew(tokenId: string, _ttl: number, expires: Date): Promise<void> {
    await this.init();
    this.#assertManaged(tokenId);
    if (!(await this.#exists(tokenId))) throw new CloudNotFoundError(`${NAME} renew: no such user`, 404);
    // Timestamp 0 and one series per lease: a later write replaces the point.
    const line = `${escapeTag(MEASUREMENT)},id=${escapeTag(tokenId)} expires=${quoteField(expires.toISOString())} 0`;
    await this.#http.write(this.#config.metaDatabase, line, 'write (metadata)');
  }

  async get(tokenId: string): Promise<CloudToken | undefined> {
    await this.init();
    // No InfluxQL statement can create a name with control characters: such a user cannot exist.
    if (tokenId === '' || CONTROL_CHARACTERS.test(tokenId) || !(await this.#exists(tokenId))) return undefined;
    const parsed = parseOwnedUserName(this.#ours, tokenId);
    if (parsed === undefined) return { id: tokenId, managed: false, active: true };
    const renewed = await this.#renewedExpiries(tokenId);
    return { id: tokenId, managed: true, expires: renewed.get(tokenId) ?? parsed.expires, active: true };
  }

  async getAll(): Promise<CloudToken[]> {
    await this.init();
    const [users, renewed] = await Promise.all([this.#http.query('SHOW USERS', 'SHOW USERS'), this.#renewedExpiries()]);
    const columns = users.series?.[0]?.columns ?? [];
    const nameAt = Math.max(0, columns.indexOf('user'));
    return (users.series?.[0]?.values ?? []).map((row) => {
      const id = String(row[nameAt]);
      const parsed = parseOwnedUserName(this.#ours, id);
      if (parsed === undefined) return { id, managed: false, active: true };
      return { id, managed: true, expires: renewed.get(id) ?? parsed.expires, active: true };
    });
  }

  /** SHOW GRANTS FOR answers "user not found" for a missing user: one cheap existence check. */
  async #exists(name: string): Promise<boolean> {
    try {
      await this.#http.query(`SHOW GRANTS FOR ${quoteIdentifier(name)}`, 'SHOW GRANTS');
      return true;
    } catch (err) {
      if (err instanceof CloudNotFoundError) return false;
      throw err;
    }
  }

  /** Expiries recorded by renewals, by lease id (one lease, or all). */
  async #renewedExpiries(id?: string): Promise<Map<string, string>> {
    const where = id === undefined ? '' : ` WHERE "id" = ${quoteString(id)}`;
    const result = await this.#http.query(`SELECT "expires", "id" FROM ${quoteIdentifier(MEASUREMENT)}${where}`, 'SELECT (metadata)', {
      db: this.#config.metaDatabase,
    });
    const out = new Map<string, string>();
    for (const series of result.series ?? []) {
      const expiresAt = series.columns.indexOf('expires');
      const idAt = series.columns.indexOf('id');
      for (const row of series.values ?? []) {
        const expires = new Date(String(row[expiresAt]));
        if (!Number.isNaN(expires.getTime())) out.set(String(row[idAt]), expires.toISOString());
      }
    }
    return out;
  }

  #assertManaged(tokenId: string): void {
    // Refuse before any statement runs: this service must never drop a user Tessera did not create.
    // Any deployment's user passes: a lease in storage is this deployment's even when its token was
    // named by another (a hub sharing the storage with another --deployment setting).
    if (parseUserName(this.#config.marker, tokenId) === undefined) {
      // The id is not echoed: a caller might pass a lease value (name:password) by mistake.
      throw new CloudRejectedError(`${NAME}: the token id is not a user this service manages`);
    }
  }
}

/** ALL on a database is READ and WRITE on it (for a user who is not admin). */
function privilegesOfGrant(grant: Grant): Privilege[] {
  const resource = grant.database;
  if (grant.privilege === 'ALL') return [{ resource, access: 'read' }, { resource, access: 'write' }];
  return [{ resource, access: grant.privilege === 'READ' ? 'read' : 'write' }];
}

/**
 * One GRANT per database: a later GRANT on a database replaces the earlier
 * one in InfluxDB 1.x, so READ and WRITE on one database become ALL.
 */
function grantsOf(privileges: readonly Privilege[]): Grant[] {
  const byDatabase = new Map<string, Set<string>>();
  for (const p of privileges) {
    let accesses = byDatabase.get(p.resource);
    if (accesses === undefined) byDatabase.set(p.resource, (accesses = new Set()));
    accesses.add(p.access);
  }
  return [...byDatabase].map(([database, accesses]) => ({
    database,
    privilege: accesses.size === 2 ? 'ALL' : accesses.has('read') ? 'READ' : 'WRITE',
  }));
}

function checkGrants(config: InfluxdbV1Config, grants: Grant[]): void {
  for (const { database } of grants) {
    if (database === config.metaDatabase) throw new InvalidOptionsError('influxdb-v1: the metadata database cannot be granted');
    if (config.allowedDatabases !== undefined && !config.allowedDatabases.includes(database)) {
      throw new InvalidOptionsError(`influxdb-v1: database ${JSON.stringify(database)} is not allowed`);
    }
  }
}

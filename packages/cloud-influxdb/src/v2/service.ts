import { InfluxDB } from '@influxdata/influxdb-client';
import { AuthorizationsAPI, BucketsAPI, OrgsAPI, type Authorization, type Authorizations, type Permission } from '@influxdata/influxdb-client-apis';
import {
  leaseFor,
  CloudNotFoundError,
  CloudRejectedError,
  InvalidOptionsError,
  LeaseError,
  NotAllowedError,
  type CloudCreateRequest,
  type CloudService,
  type CloudToken,
  type Lease,
  type RequestedPrivilege,
} from '@tessera/token-lease';
import { httpError, networkError } from '../errors.js';
import { parseOptions } from '../options.js';
import type { Ownership } from '../deployment.js';
import { describeLease, parseDescription } from './description.js';
import {
  InfluxdbV2OptionsSchema,
  V2CreateOptionsSchema,
  V2RequestedOptionsSchema,
  type BucketPermission,
  type InfluxdbV2Config,
  type InfluxdbV2Options,
  type RequestedPermission,
} from './options.js';

const NAME = 'influxdb-v2';
const ID = /^[0-9a-f]{16}$/;
/** A bound on `links.next` pages, against a server that links in a circle. */
const MAX_PAGES = 10_000;

/** What `influxdbV2` takes besides its options (tests hand in fakes). */
export interface InfluxdbV2Components {
  /** Milliseconds since the epoch, for the bucket cache. */
  now?: () => number;
  env?: Record<string, string | undefined>;
}

/**
 * A CloudService for InfluxDB v2: a lease is an authorization (API token) with bucket
 * permissions, created with the operator token; its description carries the namespace
 * marker, the deployment and the lease expiry. getAll and get call managed only the
 * tokens of this deployment (docs/operations.md, "Deployments").
 */
export function influxdbV2(options: InfluxdbV2Options, components: InfluxdbV2Components = {}): CloudService {
  const config = parseOptions(InfluxdbV2OptionsSchema, options, 'influxdb-v2 options');
  const token = config.token ?? (components.env ?? process.env).INFLUX_TOKEN;
  if (token === undefined || token === '') {
    throw new InvalidOptionsError('invalid influxdb-v2 options: an operator token is required (options.token or INFLUX_TOKEN)');
  }
  for (const p of config.permissions) checkOrgWide(config, p);
  return new InfluxdbV2Service(config, token, components.now ?? Date.now);
}

class InfluxdbV2Service implements CloudService {
  readonly name = NAME;
  readonly #config: InfluxdbV2Config;
  readonly #token: string;
  readonly #now: () => number;
  readonly #influx: InfluxDB;
  readonly #authorizations: AuthorizationsAPI;
  readonly #buckets: BucketsAPI;
  readonly #orgs: OrgsAPI;
  readonly #bucketIds = new Map<string, { id: string; at: number }>();
  readonly #ours: Ownership;
  #orgID: string | undefined;
  #ready: Promise<void> | undefined;

  constructor(config: InfluxdbV2Config, token: string, now: () => number) {
    this.#config = config;
    this.#token = token;
    this.#now = now;
    this.#ours = { marker: config.marker, deployment: config.deployment, adoptLegacy: config.adoptLegacyTokens };
    this.#influx = new InfluxDB({ url: config.url, token, timeout: config.timeout });
    this.#authorizations = new AuthorizationsAPI(this.#influx);
    this.#buckets = new BucketsAPI(this.#influx);
    this.#orgs = new OrgsAPI(this.#influx);
  }

  getAddress(): string {
    return this.#config.orgID !== undefined ? `${this.#config.url} orgID=${this.#config.orgID}` : `${this.#config.url} org=${this.#config.org}`;
  }

  init(): Promise<void> {
    this.#ready ??= this.#init().catch((err: unknown) => {
      this.#ready = undefined;
      throw err;
    });
    return this.#ready;
  }

  async #init(): Promise<void> {
    const { org, orgID } = this.#config;
    if (orgID !== undefined) {
      await this.#call('GET /api/v2/orgs/{id}', () => this.#orgs.getOrgsID({ orgID }));
      this.#orgID = orgID;
    } else {
      const found = await this.#call('GET /api/v2/orgs', () => this.#orgs.getOrgs({ org }));
      const match = found.orgs?.find((o) => o.name === org);
      if (match?.id === undefined) throw new InvalidOptionsError(`influxdb-v2: organization ${JSON.stringify(org)} not found`);
      this.#orgID = match.id;
    }
    // Resolving the configured permissions now reports a missing bucket at start-up, not at the first lease.
    await this.#permissions(this.#config.permissions);
  }

  async requestedPrivileges(options: Record<string, unknown>): Promise<RequestedPrivilege[] | undefined> {
    const requested = parseOptions(V2RequestedOptionsSchema, options, 'influxdb-v2 create options');
    await this.init();
    if (requested.orgID !== undefined && requested.orgID !== this.#orgID) {
      throw new NotAllowedError('influxdb-v2: leases are for the configured organization only');
    }
    if (requested.permissions === undefined) return undefined;
    const out: RequestedPrivilege[] = [];
    for (const p of requested.permissions) out.push(await this.#requestedPrivilege(p));
    return out;
  }

  /** A requested permission in the grant's terms (a bucket name); what no grant can hold is refused here. */
  async #requestedPrivilege(p: RequestedPermission): Promise<RequestedPrivilege> {
    if (p.type !== 'buckets') throw new NotAllowedError(`influxdb-v2: only bucket permissions are leased, not ${JSON.stringify(p.type)}`);
    if (p.orgID !== undefined && p.orgID !== this.#orgID) throw new NotAllowedError('influxdb-v2: leases are for the configured organization only');
    if (p.id === undefined && p.name === undefined) {
      throw new NotAllowedError('influxdb-v2: org-wide permissions (no bucket id or name) are never leased');
    }
    if (p.id === undefined) return { resource: p.name!, access: p.action, asked: `bucket ${JSON.stringify(p.name!.slice(0, 64))}` };
    // InfluxDB goes by the id: the grant is checked for the bucket the id names, whatever name came with it
    const asked = `bucket id ${p.id}`;
    const name = await this.#bucketName(p.id);
    // a bucket that does not exist (or is another org's) is refused like one not granted: no oracle
    if (name === undefined) throw new NotAllowedError(`${p.action} on ${asked} is not granted to this caller`);
    return { resource: name, access: p.action, asked };
  }

  async create(request: CloudCreateRequest): Promise<Lease> {
    await this.init();
    const orgID = this.#orgID!;
    let wanted: BucketPermission[];
    if (request.privileges !== undefined) {
      // the hub decided (docs/protocol.md §4): exactly these, whatever the options say
      wanted = request.privileges.map((p) => ({ action: p.access, bucket: p.resource }));
    } else {
      const requested = parseOptions(V2CreateOptionsSchema, request.options, 'influxdb-v2 create options');
      if (requested.orgID !== undefined && requested.orgID !== orgID) {
        throw new InvalidOptionsError('influxdb-v2: orgID differs from the configured organization');
      }
      wanted = requested.permissions ?? this.#config.permissions;
    }
    if (wanted.length === 0) throw new InvalidOptionsError('influxdb-v2: a lease needs at least one permission');
    const permissions = await this.#permissions(wanted);
    const created = await this.#call('POST /api/v2/authorizations', () =>
      this.#authorizations.postAuthorizations({
        body: { orgID, status: 'active', description: describeLease(this.#config.marker, this.#config.deployment, request.expires), permissions },
      }),
    );
    if (created.id === undefined || created.token === undefined) {
      throw new CloudRejectedError(`${NAME} POST /api/v2/authorizations: the answer has no id or token`);
    }
    return leaseFor(request, created.id, created.token);
  }

  async revoke(tokenId: string): Promise<void> {
    await this.init();
    if (!ID.test(tokenId)) return; // no v2 authorization has such an id: it is gone already
    try {
      await this.#call('DELETE /api/v2/authorizations/{id}', () => this.#authorizations.deleteAuthorizationsID({ authID: tokenId }));
    } catch (err) {
      if (!(err instanceof CloudNotFoundError)) throw err;
    }
  }

  async renew(tokenId: string, _ttl: number, expires: Date): Promise<void> {
    await this.init();
    if (!ID.test(tokenId)) throw new CloudNotFoundError(`${NAME} renew: no such authorization`, 404);
    await this.#call('PATCH /api/v2/authorizations/{id}', () =>
      this.#authorizations.patchAuthorizationsID({ authID: tokenId, body: { description: describeLease(this.#config.marker, this.#config.deployment, expires) } }),
    );
  }

  async get(tokenId: string): Promise<CloudToken | undefined> {
    await this.init();
    if (!ID.test(tokenId)) return undefined;
    try {
      return this.#toCloudToken(await this.#call('GET /api/v2/authorizations/{id}', () => this.#authorizations.getAuthorizationsID({ authID: tokenId })));
    } catch (err) {
      if (err instanceof CloudNotFoundError) return undefined;
      throw err;
    }
  }

  async getAll(): Promise<CloudToken[]> {
    await this.init();
    const out: CloudToken[] = [];
    let page: Authorizations = await this.#call('GET /api/v2/authorizations', () => this.#authorizations.getAuthorizations({ orgID: this.#orgID! }));
    const seen = new Set<string>();
    for (let pages = 1; ; pages++) {
      for (const auth of page.authorizations ?? []) {
        if (auth.id !== undefined && (auth.orgID === undefined || auth.orgID === this.#orgID)) out.push(this.#toCloudToken(auth));
      }
      // OSS answers in one page; a server that pages links the next one.
      const next = page.links?.next;
      if (next === undefined || next === '' || seen.has(next) || pages >= MAX_PAGES) break;
      seen.add(next);
      page = await this.#call('GET /api/v2/authorizations (next page)', () =>
        this.#influx.transport.request(next, undefined, { method: 'GET' }) as Promise<Authorizations>,
      );
    }
    return out;
  }

  #toCloudToken(auth: Authorization): CloudToken {
    const { managed, expires } = parseDescription(this.#ours, auth.description);
    const token: CloudToken = { id: auth.id!, managed, active: auth.status !== 'inactive' };
    if (expires !== undefined) token.expires = expires;
    if (auth.createdAt !== undefined) token.created = auth.createdAt;
    return token;
  }

  /** API permissions for bucket permissions: names resolved to ids, org-wide grants refused unless allowed. */
  async #permissions(requested: BucketPermission[]): Promise<Permission[]> {
    const orgID = this.#orgID!;
    const out: Permission[] = [];
    for (const p of requested) {
      checkOrgWide(this.#config, p);
      const id = p.bucketID ?? (p.bucket === undefined ? undefined : await this.#bucketId(p.bucket));
      if (id !== undefined) await this.#checkAllowed(id);
      out.push({ action: p.action, resource: id === undefined ? { type: 'buckets', orgID } : { type: 'buckets', id, orgID } });
    }
    return out;
  }

  async #checkAllowed(id: string): Promise<void> {
    const allowed = this.#config.allowedBuckets;
    if (allowed === undefined) return;
    for (const name of allowed) {
      if ((await this.#bucketId(name).catch(() => undefined)) === id) return;
    }
    throw new InvalidOptionsError('influxdb-v2: that bucket is not allowed');
  }

  /** The name of the org's bucket with this id; undefined when there is none. */
  async #bucketName(id: string): Promise<string | undefined> {
    try {
      const bucket = await this.#call('GET /api/v2/buckets/{id}', () => this.#buckets.getBucketsID({ bucketID: id }));
      return bucket.orgID === this.#orgID ? bucket.name : undefined;
    } catch (err) {
      // an operator token scoped to the org may be refused another org's bucket: the same as none
      if (err instanceof CloudNotFoundError || (err instanceof CloudRejectedError && err.status === 403)) return undefined;
      throw err;
    }
  }

  /** The id of a bucket of the org by name (the server ignores names in permissions). */
  async #bucketId(name: string): Promise<string> {
    const cached = this.#bucketIds.get(name);
    if (cached !== undefined && this.#now() - cached.at < this.#config.bucketCacheTtl) return cached.id;
    const found = await this.#call('GET /api/v2/buckets', () => this.#buckets.getBuckets({ orgID: this.#orgID!, name }));
    const bucket = found.buckets?.find((b) => b.name === name);
    if (bucket?.id === undefined) {
      this.#bucketIds.delete(name);
      throw new InvalidOptionsError(`influxdb-v2: bucket ${JSON.stringify(name)} not found in the organization`);
    }
    this.#bucketIds.set(name, { id: bucket.id, at: this.#now() });
    return bucket.id;
  }

  /** Runs one API call; whatever fails becomes a typed error without secrets. */
  async #call<T>(operation: string, fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (err) {
      if (err instanceof LeaseError) throw err;
      const status = (err as { statusCode?: unknown }).statusCode;
      if (typeof status === 'number') throw httpError(NAME, operation, status, detail(status, err as HttpErrorLike), [this.#token]);
      throw networkError(NAME, operation, err, [this.#token]);
    }
  }
}

interface HttpErrorLike {
  code?: string;
  message?: string;
  json?: { message?: unknown };
}

function detail(status: number, err: HttpErrorLike): string {
  let message = typeof err.json?.message === 'string' ? err.json.message : (err.message ?? '');
  // Without a JSON body the client's message is the status line: do not say the status twice.
  if (message.startsWith(`${status} `)) message = message.slice(String(status).length + 1);
  return [err.code, message].filter((s) => s !== undefined && s !== '').join(': ');
}

function checkOrgWide(config: InfluxdbV2Config, p: BucketPermission): void {
  if (p.bucketID === undefined && p.bucket === undefined && !config.allowOrgWideGrants) {
    throw new InvalidOptionsError('influxdb-v2: a bucket permission needs a bucket id or name (org-wide grants are off: allowOrgWideGrants)');
  }
}

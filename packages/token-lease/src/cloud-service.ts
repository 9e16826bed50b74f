import type { Privilege, RequestedPrivilege } from './grant.js';
import type { Lease } from './lease.js';

/** What the worker asks a cloud service for when a lease is created. */
export interface CloudCreateRequest {
  /** Lifetime in milliseconds. */
  ttl: number;
  issued: Date;
  expires: Date;
  /**
   * Cloud-specific options from the caller's request (for InfluxDB v2, `orgID`
   * and `permissions`), not yet validated: the cloud service validates them.
   */
  options: Record<string, unknown>;
  /**
   * What the token may do, decided by the hub's grant (docs/protocol.md §4):
   * when given, the module grants exactly these and ignores any privileges in
   * `options`. Absent: the module's own configured default (or `options`, for
   * a program that uses the module directly).
   */
  privileges?: Privilege[];
}

/** A token as the cloud lists it: enough to reconcile the cloud against storage. */
export interface CloudToken {
  id: string;
  /**
   * True when the token carries this service's marker and deployment (this deployment
   * created it): only such tokens are swept for orphans. Tokens of other deployments and
   * tokens not made by Tessera are false.
   */
  managed: boolean;
  /** The lease expiry recorded with the token, when managed. ISO 8601 UTC. */
  expires?: string;
  active: boolean;
  /** When the cloud created it (ISO 8601 UTC), where the cloud says. */
  created?: string;
}

/**
 * A cloud token provider (InfluxDB v2 authorizations, InfluxDB 1.x users, ...).
 * Every method may throw a CloudServiceError; none may put a token value in an
 * error message.
 */
export interface CloudService {
  /** The module name, e.g. `influxdb-v2`. Part of the storage namespace. */
  readonly name: string;
  /** Connects and checks configuration (org and buckets exist, operator token works). */
  init(): Promise<void>;
  /**
   * The privileges a create request's `options` name, in the grant's terms
   * (undefined: it names none). Throws InvalidOptionsError for malformed
   * options and NotAllowedError for what no grant can hold (another org,
   * org-wide or non-bucket permissions). Does not create anything.
   */
  requestedPrivileges(options: Record<string, unknown>): Promise<RequestedPrivilege[] | undefined>;
  /** Creates a token; the returned lease's `value` is a credential that works at once. */
  create(request: CloudCreateRequest): Promise<Lease>;
  /** Makes the token stop working. A token that is already gone is a success. */
  revoke(tokenId: string): Promise<void>;
  /** Records a new lifetime for the token (the cloud keeps the expiry for reconciliation). */
  renew(tokenId: string, ttl: number, expires: Date): Promise<void>;
  /** The token, or undefined when it does not exist. */
  get(tokenId: string): Promise<CloudToken | undefined>;
  /** Every token the cloud holds that this service could manage (pages through all of them). */
  getAll(): Promise<CloudToken[]>;
  /** Where the cloud is, e.g. `http://127.0.0.1:8086 org=tessera`. Part of the storage namespace. */
  getAddress(): string;
  /** Releases connections. */
  close?(): Promise<void>;
}

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

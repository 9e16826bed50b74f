import type { FieldValue, ParsedPoint } from './line-protocol.js';
import type { Permission } from './permissions.js';
import { PointStore, type Series } from './points.js';
import type { AuthorizationRecord, BucketRecord, OrgRecord, UserRecord } from './records.js';
import type { PersistedField, Snapshot } from './snapshot.js';

/** Where the store gets time and fresh ids and tokens, and whom it tells of changes. */
export interface StoreDeps {
  clock: () => Date;
  newId: () => string;
  newToken: () => string;
  onChange: () => void;
}

export interface NewBucket {
  orgID: string;
  name: string;
  description?: string;
  everySeconds: number;
  shardGroupDurationSeconds?: number;
  type?: 'user' | 'system';
}

export interface NewAuthorization {
  orgID: string;
  userID: string;
  status: 'active' | 'inactive';
  description: string;
  permissions: Permission[];
  token?: string;
}

const DAY = 86_400;

/** The shard group duration InfluxDB picks for a retention period (seconds; 0 = infinite). */
export function defaultShardGroupDuration(everySeconds: number): number {
  if (everySeconds === 0 || everySeconds >= 180 * DAY) return 7 * DAY;
  if (everySeconds < 2 * DAY) return 3_600;
  return DAY;
}

/** Everything the server holds: orgs, users, buckets, authorizations and points. */
export class Store {
  readonly orgs = new Map<string, OrgRecord>();
  readonly users = new Map<string, UserRecord>();
  readonly buckets = new Map<string, BucketRecord>();
  readonly authorizations = new Map<string, AuthorizationRecord>();
  readonly points = new PointStore();
  private readonly byToken = new Map<string, AuthorizationRecord>();

  constructor(private readonly deps: StoreDeps) {}

  now(): string {
    return this.deps.clock().toISOString();
  }

  /** The current time in nanoseconds since the epoch. */
  nowNanos(): bigint {
    return BigInt(this.deps.clock().getTime()) * 1_000_000n;
  }

  orgByName(name: string): OrgRecord | undefined {
    for (const org of this.orgs.values()) if (org.name === name) return org;
    return undefined;
  }

  userByName(name: string): UserRecord | undefined {
    for (const user of this.users.values()) if (user.name === name) return user;
    return undefined;
  }

  bucketByName(orgID: string, name: string): BucketRecord | undefined {
    for (const b of this.buckets.values()) if (b.orgID === orgID && b.name === name) return b;
    return undefined;
  }

  authorizationByToken(token: string): AuthorizationRecord | undefined {
    return this.byToken.get(token);
  }

  createUser(name: string): UserRecord {
    const user = { id: this.freshId(), name };
    this.users.set(user.id, user);
    this.deps.onChange();
    return user;
  }

  /** Creates an org with the two system buckets InfluxDB gives every org. */
  createOrg(name: string): OrgRecord {
    const now = this.now();
    const org: OrgRecord = { id: this.freshId(), name, description: '', createdAt: now, updatedAt: now };
    this.orgs.set(org.id, org);
    this.createBucket({ orgID: org.id, name: '_monitoring', everySeconds: 7 * DAY, type: 'system' });
    this.createBucket({ orgID: org.id, name: '_tasks', everySeconds: 3 * DAY, type: 'system' });
    this.deps.onChange();
    return org;
  }

  createBucket(init: NewBucket): BucketRecord {
    const now = this.now();
    const bucket: BucketRecord = {
      id: this.freshId(),
      orgID: init.orgID,
      name: init.name,
      type: init.type ?? 'user',
      everySeconds: init.everySeconds,
      shardGroupDurationSeconds: init.shardGroupDurationSeconds ?? defaultShardGroupDuration(init.everySeconds),
      createdAt: now,
      updatedAt: now,
    };
    if (init.description !== undefined) bucket.description = init.description;
    this.buckets.set(bucket.id, bucket);
    this.deps.onChange();
    return bucket;
  }

  createAuthorization(init: NewAuthorization): AuthorizationRecord {
    const now = this.now();
    let token = init.token;
    while (token === undefined || this.byToken.has(token)) token = this.deps.newToken();
    const auth: AuthorizationRecord = {
      id: this.freshId(),
      token,
      status: init.status,
      description: init.description,
      orgID: init.orgID,
      userID: init.userID,
      permissions: init.permissions,
      createdAt: now,
      updatedAt: now,
    };
    this.authorizations.set(auth.id, auth);
    this.byToken.set(auth.token, auth);
    this.deps.onChange();
    return auth;
  }

  updateAuthorization(auth: AuthorizationRecord, update: { status?: 'active' | 'inactive'; description?: string }): void {
    if (update.status !== undefined) auth.status = update.status;
    if (update.description !== undefined) auth.description = update.description;
    auth.updatedAt = this.now();
    this.deps.onChange();
  }

  deleteAuthorization(auth: AuthorizationRecord): void {
    this.authorizations.delete(auth.id);
    this.byToken.delete(auth.token);
    this.deps.onChange();
  }

  writePoints(bucketID: string, points: readonly ParsedPoint[]): void {
    this.points.write(bucketID, points);
    this.deps.onChange();
  }

  snapshot(): Snapshot {
    const series: Snapshot['series'] = [];
    for (const [bucketID, s] of this.points.entries()) {
      const points: Snapshot['series'][number]['points'] = [];
      for (const [time, fields] of s.points) {
        const out: Record<string, PersistedField> = {};
        for (const [k, v] of fields) out[k] = typeof v === 'bigint' ? { i: v.toString() } : v;
        points.push([time.toString(), out]);
      }
      series.push({ bucketID, measurement: s.measurement, tags: s.tags, points });
    }
    return {
      version: 1,
      orgs: [...this.orgs.values()],
      users: [...this.users.values()],
      buckets: [...this.buckets.values()],
      authorizations: [...this.authorizations.values()],
      series,
    };
  }

  /** Loads a snapshot into this (empty) store. */
  restore(snapshot: Snapshot): void {
    for (const org of snapshot.orgs) this.orgs.set(org.id, { ...org });
    for (const user of snapshot.users) this.users.set(user.id, { ...user });
    for (const bucket of snapshot.buckets) this.buckets.set(bucket.id, { ...bucket });
    for (const a of snapshot.authorizations) {
      const auth: AuthorizationRecord = { ...a, permissions: a.permissions.map((p) => ({ action: p.action, resource: { ...p.resource } })) };
      this.authorizations.set(auth.id, auth);
      this.byToken.set(auth.token, auth);
    }
    for (const s of snapshot.series) {
      const series: Series = { measurement: s.measurement, tags: s.tags, points: new Map() };
      for (const [time, fields] of s.points) {
        const map = new Map<string, FieldValue>();
        for (const [k, v] of Object.entries(fields)) map.set(k, typeof v === 'object' ? BigInt(v.i) : v);
        series.points.set(BigInt(time), map);
      }
      this.points.restore(s.bucketID, series);
    }
  }

  private freshId(): string {
    for (;;) {
      const id = this.deps.newId();
      if (!this.orgs.has(id) && !this.users.has(id) && !this.buckets.has(id) && !this.authorizations.has(id)) return id;
    }
  }
}

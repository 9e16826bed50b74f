import type { Permission } from './permissions.js';
import type { AuthorizationRecord, BucketRecord, OrgRecord } from './records.js';
import type { Store } from './store.js';

// The JSON shapes InfluxDB 2.7 answers with, built from the records.

export function orgView(org: OrgRecord): Record<string, unknown> {
  const byName = encodeURIComponent(org.name);
  return {
    links: {
      buckets: `/api/v2/buckets?org=${byName}`,
      dashboards: `/api/v2/dashboards?org=${byName}`,
      labels: `/api/v2/orgs/${org.id}/labels`,
      members: `/api/v2/orgs/${org.id}/members`,
      owners: `/api/v2/orgs/${org.id}/owners`,
      secrets: `/api/v2/orgs/${org.id}/secrets`,
      self: `/api/v2/orgs/${org.id}`,
      tasks: `/api/v2/tasks?org=${byName}`,
    },
    id: org.id,
    name: org.name,
    description: org.description,
    createdAt: org.createdAt,
    updatedAt: org.updatedAt,
  };
}

const SYSTEM_DESCRIPTIONS: Record<string, string> = {
  _monitoring: 'System bucket for monitoring logs',
  _tasks: 'System bucket for task logs',
};

export function bucketView(b: BucketRecord): Record<string, unknown> {
  const description = b.description ?? (b.type === 'system' ? SYSTEM_DESCRIPTIONS[b.name] : undefined);
  return {
    id: b.id,
    orgID: b.orgID,
    type: b.type,
    name: b.name,
    ...(description !== undefined ? { description } : {}),
    retentionRules: [{ type: 'expire', everySeconds: b.everySeconds, shardGroupDurationSeconds: b.shardGroupDurationSeconds }],
    createdAt: b.createdAt,
    updatedAt: b.updatedAt,
    links: {
      labels: `/api/v2/buckets/${b.id}/labels`,
      members: `/api/v2/buckets/${b.id}/members`,
      org: `/api/v2/orgs/${b.orgID}`,
      owners: `/api/v2/buckets/${b.id}/owners`,
      self: `/api/v2/buckets/${b.id}`,
      write: `/api/v2/write?org=${b.orgID}&bucket=${b.id}`,
    },
    labels: [],
  };
}

/** A permission as answered: `name` (of the resource with that id) and `org` (of orgID) filled in when known. */
function permissionView(p: Permission, store: Store): Record<string, unknown> {
  const resource: Record<string, string> = { type: p.resource.type };
  const { id, orgID } = p.resource;
  if (id !== undefined) {
    resource.id = id;
    const name = resourceName(p.resource.type, id, store);
    if (name !== undefined) resource.name = name;
  }
  if (orgID !== undefined) {
    resource.orgID = orgID;
    const org = store.orgs.get(orgID);
    if (org !== undefined) resource.org = org.name;
  }
  return { action: p.action, resource };
}

function resourceName(type: Permission['resource']['type'], id: string, store: Store): string | undefined {
  switch (type) {
    case 'buckets':
      return store.buckets.get(id)?.name;
    case 'orgs':
      return store.orgs.get(id)?.name;
    case 'users':
      return store.users.get(id)?.name;
    default:
      return undefined;
  }
}

export function authorizationView(a: AuthorizationRecord, store: Store): Record<string, unknown> {
  const org = store.orgs.get(a.orgID);
  const user = store.users.get(a.userID);
  return {
    id: a.id,
    token: a.token,
    status: a.status,
    description: a.description,
    orgID: a.orgID,
    ...(org !== undefined ? { org: org.name } : {}),
    userID: a.userID,
    ...(user !== undefined ? { user: user.name } : {}),
    permissions: a.permissions.map((p) => permissionView(p, store)),
    links: { self: `/api/v2/authorizations/${a.id}`, user: `/api/v2/users/${a.userID}` },
    createdAt: a.createdAt,
    updatedAt: a.updatedAt,
  };
}

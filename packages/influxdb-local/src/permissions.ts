/** The resource types the contract allows in a permission. */
export const RESOURCE_TYPES = [
  'authorizations', 'buckets', 'dashboards', 'orgs', 'tasks', 'telegrafs', 'users', 'variables', 'secrets',
  'labels', 'views', 'documents', 'notificationRules', 'notificationEndpoints', 'checks', 'dbrp', 'annotations',
  'sources', 'scrapers', 'notebooks', 'remotes', 'replications', 'instance', 'flows', 'functions', 'subscriptions',
] as const;

/** What an operator (all-access) token is given: read and write on every type OSS 2.7 knows, with no org. */
const OPERATOR_TYPES: readonly ResourceType[] = [
  'authorizations', 'buckets', 'dashboards', 'orgs', 'sources', 'tasks', 'telegrafs', 'users', 'variables',
  'scrapers', 'secrets', 'labels', 'views', 'documents', 'notificationRules', 'notificationEndpoints', 'checks',
  'dbrp', 'notebooks', 'annotations', 'remotes', 'replications', 'instance',
];

export type ResourceType = (typeof RESOURCE_TYPES)[number];
export type Action = 'read' | 'write';

/** A stored permission: what InfluxDB keeps (it drops `name` and `org` on input). */
export interface Permission {
  action: Action;
  resource: { type: ResourceType; id?: string; orgID?: string };
}

/** The operator token's permissions. */
export function operatorPermissions(): Permission[] {
  return OPERATOR_TYPES.flatMap((type) => [
    { action: 'read' as const, resource: { type } },
    { action: 'write' as const, resource: { type } },
  ]);
}

/** The permission needed to act on one resource (or, without id, to create one) in an org. */
export function permissionFor(action: Action, type: ResourceType, orgID: string | undefined, id?: string): Permission {
  const resource: Permission['resource'] = { type };
  if (id !== undefined) resource.id = id;
  if (orgID !== undefined) resource.orgID = orgID;
  return { action, resource };
}

/** Whether a held permission covers a required one, as InfluxDB's Permission.Matches decides. */
export function matches(held: Permission, wanted: Permission): boolean {
  if (held.action !== wanted.action || held.resource.type !== wanted.resource.type) return false;
  const { id, orgID } = held.resource;
  if (orgID === undefined && id === undefined) return true;
  if (orgID !== undefined && id === undefined && wanted.resource.orgID === orgID) return true;
  return id !== undefined && wanted.resource.id === id;
}

/** Whether any of the held permissions covers the wanted one. */
export function allows(held: readonly Permission[], wanted: Permission): boolean {
  return held.some((p) => matches(p, wanted));
}

/** InfluxDB's text form of a permission, used in its error messages (`write:orgs/<org>/buckets`). */
export function permissionText(p: Permission): string {
  const { type, id, orgID } = p.resource;
  let path: string = type;
  if (orgID !== undefined && id !== undefined) path = `orgs/${orgID}/${type}/${id}`;
  else if (orgID !== undefined) path = `orgs/${orgID}/${type}`;
  else if (id !== undefined) path = `${type}/${id}`;
  return `${p.action}:${path}`;
}

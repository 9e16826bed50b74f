import type { IncomingMessage } from 'node:http';
import { ApiError } from './errors.js';
import { allows, permissionText, type Permission } from './permissions.js';
import type { AuthorizationRecord } from './records.js';
import type { Store } from './store.js';

/**
 * The authorization behind the request's `Authorization: Token T` (or `Bearer T`)
 * header; 401 `unauthorized access` when the header is missing or the token unknown.
 */
export function authenticate(req: IncomingMessage, store: Store): AuthorizationRecord {
  const header = req.headers.authorization;
  if (typeof header !== 'string') throw ApiError.unauthorizedAccess();
  const m = /^(?:Token|Bearer) +(\S+) *$/.exec(header);
  const auth = m === null ? undefined : store.authorizationByToken(m[1]!);
  if (auth === undefined) throw ApiError.unauthorizedAccess();
  return auth;
}

/** The held permissions of an active authorization; 401 `token is inactive` otherwise (InfluxDB's PermissionSet). */
export function permissionSet(auth: AuthorizationRecord): readonly Permission[] {
  if (auth.status !== 'active') throw new ApiError('unauthorized', 'token is inactive');
  return auth.permissions;
}

/** Whether an active authorization holds a permission (an inactive one holds none). */
export function isAllowed(auth: AuthorizationRecord, wanted: Permission): boolean {
  return auth.status === 'active' && allows(auth.permissions, wanted);
}

/** Requires a permission the way InfluxDB's authorizer does: 401 `<permission> is unauthorized`. */
export function requirePermission(auth: AuthorizationRecord, wanted: Permission): void {
  if (!allows(permissionSet(auth), wanted)) throw new ApiError('unauthorized', `${permissionText(wanted)} is unauthorized`);
}

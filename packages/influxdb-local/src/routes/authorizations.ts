import { z } from 'zod';
import { authenticate, isAllowed, permissionSet, requirePermission } from '../auth.js';
import { ApiError } from '../errors.js';
import { readJsonAs } from '../http.js';
import { parseId } from '../ids.js';
import { orgById, orgByName } from '../lookup.js';
import { allows, permissionFor, permissionText, RESOURCE_TYPES, type Permission, type ResourceType } from '../permissions.js';
import type { AuthorizationRecord } from '../records.js';
import type { RequestContext, Route } from '../router.js';
import type { Store } from '../store.js';
import { authorizationView } from '../views.js';

const optionalText = z.string().nullish();

const postBody = z.object({
  orgID: optionalText,
  userID: optionalText,
  description: optionalText,
  status: optionalText,
  permissions: z
    .array(
      z.object({
        action: z.string(),
        // name and org are accepted and ignored, as InfluxDB does.
        resource: z.object({ type: z.string(), id: optionalText, orgID: optionalText, name: optionalText, org: optionalText }),
      }),
    )
    .nullish(),
});

const patchBody = z.object({ status: optionalText, description: optionalText });

function status(text: string | null | undefined): 'active' | 'inactive' | undefined {
  if (text === undefined || text === null || text === '') return undefined;
  if (text === 'active' || text === 'inactive') return text;
  throw ApiError.invalid('unknown authorization status');
}

function toPermissions(input: NonNullable<z.infer<typeof postBody>['permissions']>, orgID: string): Permission[] {
  return input.map((p) => {
    if (p.action !== 'read' && p.action !== 'write') throw ApiError.invalid('unknown action for permission');
    if (!(RESOURCE_TYPES as readonly string[]).includes(p.resource.type)) throw ApiError.invalid('unknown resource type for permission');
    const resource: Permission['resource'] = { type: p.resource.type as ResourceType };
    if (p.resource.id != null && p.resource.id !== '') resource.id = parseId(p.resource.id);
    if (p.resource.orgID != null && p.resource.orgID !== '') resource.orgID = parseId(p.resource.orgID);
    const permission: Permission = { action: p.action, resource };
    if (resource.orgID !== undefined && resource.orgID !== orgID) {
      throw ApiError.invalid(`permission ${permissionText(permission)} is not for org id ${orgID}`);
    }
    return permission;
  });
}

function byId(ctx: RequestContext): { auth: AuthorizationRecord; target: AuthorizationRecord } {
  const auth = authenticate(ctx.req, ctx.store);
  const target = ctx.store.authorizations.get(parseId(ctx.params.authID ?? ''));
  if (target === undefined) throw ApiError.notFound('authorization not found');
  return { auth, target };
}

const onAuthorization = (action: 'read' | 'write', a: AuthorizationRecord) => permissionFor(action, 'authorizations', a.orgID, a.id);

function userFilter(store: Store, query: URLSearchParams): string | undefined {
  const userID = query.get('userID') ?? '';
  if (userID !== '') return parseId(userID);
  const user = query.get('user') ?? '';
  if (user === '') return undefined;
  const found = store.userByName(user);
  if (found === undefined) throw ApiError.notFound('user not found');
  return found.id;
}

/** The authorizations API: list (filters `userID`, `user`, `orgID`, `org`, `token`), create, get, patch, delete. */
export const authorizationRoutes: Route[] = [
  {
    method: 'GET',
    path: '/api/v2/authorizations',
    handle: ({ req, store, query }) => {
      const auth = authenticate(req, store);
      permissionSet(auth);
      const userID = userFilter(store, query);
      const orgIDParam = query.get('orgID') ?? '';
      const orgParam = query.get('org') ?? '';
      const orgID = orgIDParam !== '' ? parseId(orgIDParam) : orgParam !== '' ? orgByName(store, orgParam).id : undefined;
      const token = query.get('token') ?? '';
      const found = [...store.authorizations.values()].filter(
        (a) =>
          (userID === undefined || a.userID === userID) &&
          (orgID === undefined || a.orgID === orgID) &&
          (token === '' || a.token === token) &&
          isAllowed(auth, onAuthorization('read', a)),
      );
      return { status: 200, body: { links: { self: '/api/v2/authorizations' }, authorizations: found.map((a) => authorizationView(a, store)) } };
    },
  },
  {
    method: 'POST',
    path: '/api/v2/authorizations',
    handle: async ({ req, store, maxBodyBytes }) => {
      const auth = authenticate(req, store);
      const body = await readJsonAs(req, maxBodyBytes, postBody);
      if (body.permissions == null || body.permissions.length === 0) throw ApiError.invalid('authorization must include permissions');
      if (body.orgID == null || body.orgID === '') throw ApiError.invalid('org id required');
      const orgID = parseId(body.orgID);
      const permissions = toPermissions(body.permissions, orgID);
      const newStatus = status(body.status) ?? 'active';
      const userID = body.userID != null && body.userID !== '' ? parseId(body.userID) : auth.userID;
      requirePermission(auth, permissionFor('write', 'authorizations', orgID));
      const held = permissionSet(auth);
      for (const p of permissions) {
        if (!allows(held, p)) throw new ApiError('forbidden', `permission ${permissionText(p)} is not allowed`);
      }
      orgById(store, orgID);
      if (!store.users.has(userID)) throw ApiError.notFound('user not found');
      const created = store.createAuthorization({ orgID, userID, status: newStatus, description: body.description ?? '', permissions });
      return { status: 201, body: authorizationView(created, store) };
    },
  },
  {
    method: 'GET',
    path: '/api/v2/authorizations/{authID}',
    handle: (ctx) => {
      const { auth, target } = byId(ctx);
      requirePermission(auth, onAuthorization('read', target));
      return { status: 200, body: authorizationView(target, ctx.store) };
    },
  },
  {
    method: 'PATCH',
    path: '/api/v2/authorizations/{authID}',
    handle: async (ctx) => {
      const auth = authenticate(ctx.req, ctx.store);
      const id = parseId(ctx.params.authID ?? '');
      const body = await readJsonAs(ctx.req, ctx.maxBodyBytes, patchBody);
      const newStatus = status(body.status);
      const target = ctx.store.authorizations.get(id);
      if (target === undefined) throw ApiError.notFound('authorization not found');
      requirePermission(auth, onAuthorization('write', target));
      ctx.store.updateAuthorization(target, {
        ...(newStatus !== undefined ? { status: newStatus } : {}),
        ...(body.description != null ? { description: body.description } : {}),
      });
      return { status: 200, body: authorizationView(target, ctx.store) };
    },
  },
  {
    method: 'DELETE',
    path: '/api/v2/authorizations/{authID}',
    handle: (ctx) => {
      const { auth, target } = byId(ctx);
      requirePermission(auth, onAuthorization('write', target));
      ctx.store.deleteAuthorization(target);
      return { status: 204 };
    },
  },
];

import { authenticate, isAllowed, permissionSet, requirePermission } from '../auth.js';
import { parseId } from '../ids.js';
import { orgById, orgByName, paginate } from '../lookup.js';
import { permissionFor } from '../permissions.js';
import type { OrgRecord } from '../records.js';
import type { Route } from '../router.js';
import { orgView } from '../views.js';

const readOrg = (org: OrgRecord) => permissionFor('read', 'orgs', org.id, org.id);

/** GET /api/v2/orgs (filters `org`, `orgID`, `userID`; paging) and GET /api/v2/orgs/{orgID}. */
export const orgRoutes: Route[] = [
  {
    method: 'GET',
    path: '/api/v2/orgs',
    handle: ({ req, store, query }) => {
      const auth = authenticate(req, store);
      permissionSet(auth);
      const orgParam = query.get('org') ?? '';
      const orgIDParam = query.get('orgID') ?? '';
      const userIDParam = query.get('userID') ?? '';
      let orgs: OrgRecord[];
      if (orgIDParam !== '') orgs = [orgById(store, parseId(orgIDParam))];
      else if (orgParam !== '') orgs = [orgByName(store, orgParam)];
      else orgs = [...store.orgs.values()].sort((a, b) => a.name.localeCompare(b.name));
      if (userIDParam !== '' && !store.users.has(parseId(userIDParam))) orgs = [];
      const visible = orgs.filter((o) => isAllowed(auth, readOrg(o)));
      const { page, links } = paginate(visible, query, '/api/v2/orgs', { org: orgParam, orgID: orgIDParam, userID: userIDParam });
      return { status: 200, body: { links, orgs: page.map(orgView) } };
    },
  },
  {
    method: 'GET',
    path: '/api/v2/orgs/{orgID}',
    handle: ({ req, store, params }) => {
      const auth = authenticate(req, store);
      const org = orgById(store, parseId(params.orgID ?? ''));
      requirePermission(auth, readOrg(org));
      return { status: 200, body: orgView(org) };
    },
  },
];

import { authenticate } from '../auth.js';
import { ApiError } from '../errors.js';
import { parseId } from '../ids.js';
import { bucketFromQuery, orgById, orgByName } from '../lookup.js';
import { allows, permissionFor } from '../permissions.js';
import type { SeriesFilter } from '../points.js';
import type { Route } from '../router.js';

/**
 * GET /api/v2/local/points?org=&bucket=&measurement=&tag.<key>=<value>: not part of
 * InfluxDB. Reads back what was written, as JSON, for demos and tests; needs a token
 * that may read the bucket.
 */
export const localRoutes: Route[] = [
  {
    method: 'GET',
    path: '/api/v2/local/points',
    handle: ({ req, store, query }) => {
      const auth = authenticate(req, store);
      const orgID = query.get('orgID') ?? '';
      const orgName = query.get('org') ?? '';
      if (orgID === '' && orgName === '') throw ApiError.invalid('Please provide either orgID or org');
      const org = orgID !== '' ? orgById(store, parseId(orgID)) : orgByName(store, orgName);
      const bucket = bucketFromQuery(store, org, query);
      if (auth.status !== 'active' || !allows(auth.permissions, permissionFor('read', 'buckets', org.id, bucket.id))) {
        throw new ApiError('forbidden', 'insufficient permissions for read');
      }
      const filter: SeriesFilter = {};
      const measurement = query.get('measurement') ?? '';
      if (measurement !== '') filter.measurement = measurement;
      const tags: Record<string, string> = {};
      for (const [key, value] of query) if (key.startsWith('tag.') && key.length > 4) tags[key.slice(4)] = value;
      filter.tags = tags;
      const points = store.points.query(bucket.id, filter);
      return { status: 200, body: { org: org.name, bucket: bucket.name, count: points.length, points } };
    },
  },
];

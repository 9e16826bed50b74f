import { authenticate } from '../auth.js';
import { ApiError } from '../errors.js';
import { readBody } from '../http.js';
import { parseLineProtocol, PRECISIONS, type Precision } from '../line-protocol.js';
import { bucketFromQuery, orgFromWriteQuery } from '../lookup.js';
import { allows, permissionFor } from '../permissions.js';
import type { Route } from '../router.js';

function precision(query: URLSearchParams): Precision {
  const text = query.get('precision') ?? '';
  if (text === '') return 'ns';
  if ((PRECISIONS as readonly string[]).includes(text)) return text as Precision;
  throw ApiError.invalid('invalid precision; valid precision units are ns, us, ms, and s');
}

/**
 * POST /api/v2/write, checking in InfluxDB 2.7's order: token (401), precision (400),
 * org (400/404), bucket (404), permission or inactive token (403), body size (413),
 * line protocol (400); then every point is stored, or none.
 */
export const writeRoutes: Route[] = [
  {
    method: 'POST',
    path: '/api/v2/write',
    handle: async ({ req, store, query, maxBodyBytes }) => {
      const auth = authenticate(req, store);
      const unit = precision(query);
      const org = orgFromWriteQuery(store, query);
      const bucket = bucketFromQuery(store, org, query);
      if (auth.status !== 'active' || !allows(auth.permissions, permissionFor('write', 'buckets', org.id, bucket.id))) {
        throw new ApiError('forbidden', 'insufficient permissions for write');
      }
      const body = await readBody(req, maxBodyBytes);
      const { points, errors } = parseLineProtocol(body.toString('utf8'), unit, store.nowNanos());
      if (errors.length > 0) throw ApiError.invalid(errors.join('\n'));
      if (points.length === 0) throw ApiError.invalid('writing requires points');
      store.writePoints(bucket.id, points);
      return { status: 204 };
    },
  },
];

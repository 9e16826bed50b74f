import { z } from 'zod';
import { authenticate, isAllowed, permissionSet, requirePermission } from '../auth.js';
import { ApiError } from '../errors.js';
import { readJsonAs } from '../http.js';
import { parseId } from '../ids.js';
import { orgById, orgByName, paginate } from '../lookup.js';
import { permissionFor } from '../permissions.js';
import type { BucketRecord } from '../records.js';
import type { Route } from '../router.js';
import { bucketView } from '../views.js';

const readBucket = (b: BucketRecord) => permissionFor('read', 'buckets', b.orgID, b.id);

const postBucketBody = z.object({
  orgID: z.string().nullish(),
  name: z.string().nullish(),
  description: z.string().nullish(),
  rp: z.string().nullish(),
  schemaType: z.string().nullish(),
  retentionRules: z
    .array(
      z.object({
        type: z.literal('expire').nullish(),
        everySeconds: z.number().int(),
        shardGroupDurationSeconds: z.number().int().nullish(),
      }),
    )
    .nullish(),
});

/** GET /api/v2/buckets (filters `org`, `orgID`, `name`, `id`; paging), POST /api/v2/buckets, GET /api/v2/buckets/{bucketID}. */
export const bucketRoutes: Route[] = [
  {
    method: 'GET',
    path: '/api/v2/buckets',
    handle: ({ req, store, query }) => {
      const auth = authenticate(req, store);
      permissionSet(auth);
      const filters = { org: query.get('org') ?? '', orgID: query.get('orgID') ?? '', name: query.get('name') ?? '', id: query.get('id') ?? '' };
      let orgID: string | undefined;
      if (filters.orgID !== '') orgID = parseId(filters.orgID);
      else if (filters.org !== '') orgID = orgByName(store, filters.org).id;
      const id = filters.id === '' ? undefined : parseId(filters.id);
      let buckets = [...store.buckets.values()].filter(
        (b) => (orgID === undefined || b.orgID === orgID) && (id === undefined || b.id === id) && (filters.name === '' || b.name === filters.name),
      );
      const after = query.get('after') ?? '';
      if (after !== '') {
        const afterID = parseId(after);
        buckets = buckets.filter((b) => b.id > afterID).sort((a, b) => (a.id < b.id ? -1 : 1));
      } else {
        buckets.sort((a, b) => (a.orgID === b.orgID ? (a.name < b.name ? -1 : a.name > b.name ? 1 : 0) : a.orgID < b.orgID ? -1 : 1));
      }
      const visible = buckets.filter((b) => isAllowed(auth, readBucket(b)));
      const { page, links } = paginate(visible, query, '/api/v2/buckets', { ...filters, after });
      return { status: 200, body: { links, buckets: page.map(bucketView) } };
    },
  },
  {
    method: 'POST',
    path: '/api/v2/buckets',
    handle: async ({ req, store, maxBodyBytes }) => {
      const auth = authenticate(req, store);
      const body = await readJsonAs(req, maxBodyBytes, postBucketBody);
      if (body.orgID === undefined || body.orgID === null || body.orgID === '') throw ApiError.invalid('organization id must be provided');
      const orgID = parseId(body.orgID);
      const name = body.name ?? '';
      if (name.trim() === '') throw ApiError.invalid('bucket name is empty');
      if (name.startsWith('_')) throw ApiError.invalid(`bucket name ${name} is invalid. Buckets may not start with underscore`);
      if (/["\\]/.test(name)) throw ApiError.invalid(`bucket name ${name} is invalid. Bucket names may not include quotation marks`);
      const rule = body.retentionRules?.[0];
      const everySeconds = rule?.everySeconds ?? 0;
      if (everySeconds < 0) throw ApiError.invalid('expiration seconds cannot be negative');
      if (everySeconds > 0 && everySeconds < 3600) throw ApiError.invalid('expiration seconds must be greater than or equal to one hour');
      const shard = rule?.shardGroupDurationSeconds ?? undefined;
      if (shard !== undefined && shard < 0) throw ApiError.invalid('shard-group duration seconds cannot be negative');
      requirePermission(auth, permissionFor('write', 'buckets', orgID));
      orgById(store, orgID);
      if (store.bucketByName(orgID, name) !== undefined) throw new ApiError('conflict', `bucket with name ${name} already exists`);
      const bucket = store.createBucket({
        orgID,
        name,
        everySeconds,
        ...(body.description != null ? { description: body.description } : {}),
        ...(shard !== undefined && shard > 0 ? { shardGroupDurationSeconds: shard } : {}),
      });
      return { status: 201, body: bucketView(bucket) };
    },
  },
  {
    method: 'GET',
    path: '/api/v2/buckets/{bucketID}',
    handle: ({ req, store, params }) => {
      const auth = authenticate(req, store);
      const bucket = store.buckets.get(parseId(params.bucketID ?? ''));
      if (bucket === undefined) throw ApiError.notFound('bucket not found');
      requirePermission(auth, readBucket(bucket));
      return { status: 200, body: bucketView(bucket) };
    },
  },
];

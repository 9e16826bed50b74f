import { ApiError } from './errors.js';
import { looksLikeId, parseId } from './ids.js';
import type { BucketRecord, OrgRecord } from './records.js';
import type { Store } from './store.js';

/** 404 for an org looked up by name, worded as InfluxDB words it. */
export function orgNameNotFound(name: string): ApiError {
  return ApiError.notFound(`organization name "${name}" not found`);
}

/** The org an id names; 404 `organization not found`. */
export function orgById(store: Store, id: string): OrgRecord {
  const org = store.orgs.get(id);
  if (org === undefined) throw ApiError.notFound('organization not found');
  return org;
}

/** The org a name names; 404 `organization name "x" not found`. */
export function orgByName(store: Store, name: string): OrgRecord {
  const org = store.orgByName(name);
  if (org === undefined) throw orgNameNotFound(name);
  return org;
}

/**
 * The org the write endpoint's `org`/`orgID` parameters name, as InfluxDB's
 * queryOrganization: `org` is taken as an id when it reads as one, `orgID` wins,
 * neither is 400.
 */
export function orgFromWriteQuery(store: Store, query: URLSearchParams): OrgRecord {
  const orgID = query.get('orgID') ?? '';
  if (orgID !== '') return orgById(store, parseId(orgID));
  const org = query.get('org') ?? '';
  if (org === '') throw ApiError.invalid('Please provide either orgID or org');
  return looksLikeId(org) ? orgById(store, org.toLowerCase()) : orgByName(store, org);
}

/** The bucket a `bucket` parameter names in an org (by id when it reads as one, else by name). */
export function bucketFromQuery(store: Store, org: OrgRecord, query: URLSearchParams): BucketRecord {
  const bucket = query.get('bucket') ?? query.get('bucketID') ?? '';
  if (bucket === '') throw ApiError.invalid('Please provide bucket');
  if (looksLikeId(bucket)) {
    const byId = store.buckets.get(bucket.toLowerCase());
    if (byId !== undefined && byId.orgID === org.id) return byId;
  }
  const byName = store.bucketByName(org.id, bucket);
  if (byName === undefined) throw ApiError.notFound(looksLikeId(bucket) ? 'bucket not found' : `bucket "${bucket}" not found`);
  return byName;
}

/** The page InfluxDB's `offset`/`limit`/`descending` options select, with its paging links. */
export function paginate<T>(
  items: readonly T[],
  query: URLSearchParams,
  path: string,
  filters: Record<string, string | undefined>,
): { page: T[]; links: { self: string; next?: string; prev?: string } } {
  const limit = intParam(query, 'limit', 20);
  if (limit < 1 || limit > 100) throw ApiError.invalid('limit must be between 1 and 100');
  const offset = intParam(query, 'offset', 0);
  if (offset < 0) throw ApiError.invalid('offset must be greater than or equal to 0');
  const descendingText = query.get('descending') ?? 'false';
  if (descendingText !== 'true' && descendingText !== 'false') throw ApiError.invalid(`invalid descending: ${descendingText}`);
  const descending = descendingText === 'true';
  const ordered = descending ? [...items].reverse() : items;
  const page = ordered.slice(offset, offset + limit);
  const link = (at: number): string => {
    const params = new URLSearchParams({ descending: String(descending), limit: String(limit), offset: String(at) });
    for (const [k, v] of Object.entries(filters)) if (v !== undefined && v !== '') params.set(k, v);
    params.sort();
    return `${path}?${params.toString()}`;
  };
  const links: { self: string; next?: string; prev?: string } = { self: link(offset) };
  if (offset + limit < ordered.length) links.next = link(offset + limit);
  if (offset > 0) links.prev = link(Math.max(0, offset - limit));
  return { page, links };
}

function intParam(query: URLSearchParams, name: string, fallback: number): number {
  const text = query.get(name);
  if (text === null || text === '') return fallback;
  if (!/^-?\d{1,9}$/.test(text)) throw ApiError.invalid(`invalid ${name}: ${text}`);
  return Number(text);
}

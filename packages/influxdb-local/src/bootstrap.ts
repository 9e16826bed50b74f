import { allows, operatorPermissions } from './permissions.js';
import { InfluxdbLocalOptionsError, type ResolvedOptions } from './options.js';
import type { AuthorizationRecord, BucketRecord, OrgRecord } from './records.js';
import type { Store } from './store.js';

/** Where the operator token came from: an option, INFLUX_TOKEN, the persist file, or made up at start. */
export type TokenOrigin = 'option' | 'env' | 'persisted' | 'generated';

export interface Bootstrapped {
  org: OrgRecord;
  bucket: BucketRecord;
  operator: AuthorizationRecord;
  tokenOrigin: TokenOrigin;
}

const USER_NAME = 'admin';

function isOperator(a: AuthorizationRecord): boolean {
  return a.status === 'active' && operatorPermissions().every((p) => allows(a.permissions, p));
}

/**
 * Makes sure the store has what the options name, as `influx setup` would: a user,
 * the org (with its system buckets), the bucket, and an operator authorization.
 */
export function bootstrap(store: Store, options: ResolvedOptions, tokenFromEnv: boolean): Bootstrapped {
  const user = store.userByName(USER_NAME) ?? store.createUser(USER_NAME);
  const org = store.orgByName(options.org) ?? store.createOrg(options.org);
  const bucket = store.bucketByName(org.id, options.bucket) ?? store.createBucket({ orgID: org.id, name: options.bucket, everySeconds: 0 });
  const newOperator = (token?: string): AuthorizationRecord =>
    store.createAuthorization({
      orgID: org.id,
      userID: user.id,
      status: 'active',
      description: `${user.name}'s Token`,
      permissions: operatorPermissions(),
      ...(token !== undefined ? { token } : {}),
    });

  if (options.token !== undefined) {
    const existing = store.authorizationByToken(options.token);
    if (existing !== undefined && !isOperator(existing)) {
      throw new InfluxdbLocalOptionsError('the operator token given is the token of an authorization that is not an active all-access one');
    }
    return { org, bucket, operator: existing ?? newOperator(options.token), tokenOrigin: tokenFromEnv ? 'env' : 'option' };
  }
  for (const a of store.authorizations.values()) if (isOperator(a)) return { org, bucket, operator: a, tokenOrigin: 'persisted' };
  return { org, bucket, operator: newOperator(), tokenOrigin: 'generated' };
}

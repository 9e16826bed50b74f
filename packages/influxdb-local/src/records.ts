import type { Permission } from './permissions.js';

/** What the server keeps about an organization. */
export interface OrgRecord {
  id: string;
  name: string;
  description: string;
  createdAt: string;
  updatedAt: string;
}

/** What the server keeps about a user (there is one: the owner of the operator token). */
export interface UserRecord {
  id: string;
  name: string;
}

/** What the server keeps about a bucket. */
export interface BucketRecord {
  id: string;
  orgID: string;
  name: string;
  description?: string;
  type: 'user' | 'system';
  /** 0 means infinite retention (nothing is ever expired here, whatever the rule says). */
  everySeconds: number;
  shardGroupDurationSeconds: number;
  createdAt: string;
  updatedAt: string;
}

/** What the server keeps about an authorization (an API token and its permissions). */
export interface AuthorizationRecord {
  id: string;
  token: string;
  status: 'active' | 'inactive';
  description: string;
  orgID: string;
  userID: string;
  permissions: Permission[];
  createdAt: string;
  updatedAt: string;
}

import { z } from 'zod';
import { RESOURCE_TYPES } from './permissions.js';

const id = z.string().regex(/^[0-9a-f]{16}$/);
const date = z.string().min(1);

const permission = z.object({
  action: z.enum(['read', 'write']),
  resource: z.object({ type: z.enum(RESOURCE_TYPES), id: id.optional(), orgID: id.optional() }),
});

/** A persisted field value: floats, strings and booleans as themselves, integers as `{"i":"<decimal>"}`. */
const fieldValue = z.union([z.number(), z.string(), z.boolean(), z.object({ i: z.string().regex(/^-?\d+$/) })]);

/** The JSON file `persistPath` names: everything the server holds. */
export const snapshotSchema = z.object({
  version: z.literal(1),
  orgs: z.array(z.object({ id, name: z.string().min(1), description: z.string(), createdAt: date, updatedAt: date })),
  users: z.array(z.object({ id, name: z.string().min(1) })),
  buckets: z.array(
    z.object({
      id,
      orgID: id,
      name: z.string().min(1),
      description: z.string().optional(),
      type: z.enum(['user', 'system']),
      everySeconds: z.number().int().min(0),
      shardGroupDurationSeconds: z.number().int().min(0),
      createdAt: date,
      updatedAt: date,
    }),
  ),
  authorizations: z.array(
    z.object({
      id,
      token: z.string().min(1),
      status: z.enum(['active', 'inactive']),
      description: z.string(),
      orgID: id,
      userID: id,
      permissions: z.array(permission),
      createdAt: date,
      updatedAt: date,
    }),
  ),
  series: z.array(
    z.object({
      bucketID: id,
      measurement: z.string().min(1),
      tags: z.array(z.tuple([z.string(), z.string()])),
      /** `[nanoseconds as a decimal string, fields]` pairs. */
      points: z.array(z.tuple([z.string().regex(/^-?\d+$/), z.record(z.string(), fieldValue)])),
    }),
  ),
});

export type Snapshot = z.infer<typeof snapshotSchema>;
export type PersistedField = z.infer<typeof fieldValue>;

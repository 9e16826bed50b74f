import { z } from 'zod';
import { DEFAULT_DEPLOYMENT, DeploymentSchema } from '../deployment.js';

/** InfluxDB v2 ids are 16 lowercase hex characters. */
export const IdSchema = z.string().regex(/^[0-9a-f]{16}$/, '16 lowercase hex characters');

const ActionSchema = z.enum(['read', 'write']);

/** The short form: `{action: 'write', bucket: 'tessera'}` or `{action: 'write', bucketID: '…'}`. */
const ShortPermissionSchema = z
  .object({ action: ActionSchema, bucket: z.string().min(1).max(255).optional(), bucketID: IdSchema.optional() })
  .strict();

/** The API's form, limited to buckets: `{action, resource: {type: 'buckets', id?, name?}}`. */
const ApiPermissionSchema = z
  .object({
    action: ActionSchema,
    resource: z
      .object({
        type: z.literal('buckets'),
        id: IdSchema.optional(),
        name: z.string().min(1).max(255).optional(),
        orgID: IdSchema.optional(),
        org: z.string().optional(),
      })
      .strict(),
  })
  .strict();

/** A bucket permission, normalized: an id, a name to resolve, or neither (every bucket of the org). */
export interface BucketPermission {
  action: 'read' | 'write';
  bucketID?: string;
  bucket?: string;
}

/**
 * Only bucket permissions can be leased: anything else (authorizations, users, orgs)
 * would let a device mint or see tokens.
 */
export const PermissionSchema = z.union([ShortPermissionSchema, ApiPermissionSchema]).transform((p): BucketPermission => {
  const out: BucketPermission = { action: p.action };
  const id = 'resource' in p ? p.resource.id : p.bucketID;
  const name = 'resource' in p ? p.resource.name : p.bucket;
  if (id !== undefined) out.bucketID = id;
  if (name !== undefined) out.bucket = name;
  return out;
});

const MarkerSchema = z
  .string()
  .regex(/^[A-Za-z][A-Za-z0-9._-]{0,63}$/, 'letters, digits, ".", "_" and "-", starting with a letter, at most 64');

/** The configuration of `influxdbV2`. */
export const InfluxdbV2OptionsSchema = z
  .object({
    /** Base URL, e.g. `http://127.0.0.1:8086`. */
    url: z.url({ protocol: /^https?$/ }).transform((u) => u.replace(/\/+$/, '')),
    /** Operator token that may create authorizations (default: env INFLUX_TOKEN). Never logged. */
    token: z.string().min(1).optional(),
    /** Organization name (or give orgID). */
    org: z.string().min(1).optional(),
    orgID: IdSchema.optional(),
    /** What a lease grants when the request names nothing. */
    permissions: z.array(PermissionSchema).min(1).max(50).default([{ action: 'write', bucket: 'tessera' }]),
    /** When set, the only bucket names a request may name (ids are resolved to names and checked too). */
    allowedBuckets: z.array(z.string().min(1)).optional(),
    /** Permit a bucket permission with neither id nor name: it grants every bucket of the org. */
    allowOrgWideGrants: z.boolean().default(false),
    /** Start of every managed token's description: how getAll tells ours from the rest. */
    marker: MarkerSchema.default('tessera-lease'),
    /** The deployment (hubs sharing one storage) whose tokens this service creates and sweeps: see docs/operations.md. */
    deployment: DeploymentSchema.default(DEFAULT_DEPLOYMENT),
    /** Also take tokens of the format without a deployment (made before deployments existed) for this deployment's. */
    adoptLegacyTokens: z.boolean().default(false),
    /** Per-request timeout in ms. */
    timeout: z.number().int().positive().max(600_000).default(10_000),
    /** How long a bucket name → id resolution is trusted, in ms. */
    bucketCacheTtl: z.number().int().nonnegative().default(60_000),
  })
  .strict()
  .refine((o) => o.org !== undefined || o.orgID !== undefined, { message: 'org or orgID is required', path: ['org'] });
export type InfluxdbV2Options = z.input<typeof InfluxdbV2OptionsSchema>;
export type InfluxdbV2Config = z.output<typeof InfluxdbV2OptionsSchema>;

/** What a caller may put in a create request's `options`. */
export const V2CreateOptionsSchema = z.object({
  orgID: IdSchema.optional(),
  permissions: z.array(PermissionSchema).min(1).max(50).optional(),
});

/**
 * A permission as a hub reads it from a request, to check it against the
 * caller's grant: any resource type parses, so that what no grant holds
 * (another type, another org) is refused as not allowed, not as malformed.
 */
const RequestedPermissionSchema = z.union([
  ShortPermissionSchema.transform((p) => ({ action: p.action, type: 'buckets', id: p.bucketID, name: p.bucket, orgID: undefined as string | undefined })),
  z
    .object({
      action: ActionSchema,
      resource: z
        .object({ type: z.string().min(1).max(64), id: IdSchema.optional(), name: z.string().min(1).max(255).optional(), orgID: IdSchema.optional(), org: z.string().optional() })
        .strict(),
    })
    .strict()
    .transform((p) => ({ action: p.action, type: p.resource.type, id: p.resource.id, name: p.resource.name, orgID: p.resource.orgID })),
]);
export type RequestedPermission = z.output<typeof RequestedPermissionSchema>;

/** A create request's `options` as the hub reads them for the grant check. */
export const V2RequestedOptionsSchema = z.object({
  orgID: IdSchema.optional(),
  permissions: z.array(RequestedPermissionSchema).min(1).max(50).optional(),
});

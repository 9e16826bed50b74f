import { z } from 'zod';
import { DEFAULT_DEPLOYMENT, DeploymentSchema } from '../deployment.js';
import { CONTROL_CHARACTERS } from '../influxql.js';

/**
 * A 1.x database name: printable text up to 255 characters (it is always quoted);
 * InfluxDB itself refuses `/` and `\` in names, so they are refused here first.
 */
export const DatabaseNameSchema = z
  .string()
  .min(1)
  .max(255)
  .refine((name) => !CONTROL_CHARACTERS.test(name), { message: 'must not contain control characters' })
  .refine((name) => !/[/\\]/.test(name), { message: 'must not contain "/" or "\\"' });

export const PrivilegeSchema = z
  .string()
  .transform((p) => p.toUpperCase())
  .pipe(z.enum(['READ', 'WRITE', 'ALL']));

/** One privilege on one database for a leased user. */
export const GrantSchema = z.object({ database: DatabaseNameSchema, privilege: PrivilegeSchema }).strict();
export type Grant = z.output<typeof GrantSchema>;

const MarkerSchema = z
  .string()
  .regex(/^[A-Za-z][A-Za-z0-9.-]{0,63}$/, 'letters, digits, "." and "-", starting with a letter, at most 64');

/** The configuration of `influxdbV1`. */
export const InfluxdbV1OptionsSchema = z
  .object({
    /** Base URL of InfluxDB 1.x, e.g. `http://127.0.0.1:8086`. */
    url: z.url({ protocol: /^https?$/ }).transform((u) => u.replace(/\/+$/, '')),
    /** An admin user (default: env INFLUX_USERNAME). */
    username: z.string().min(1).optional(),
    /** Its password (default: env INFLUX_PASSWORD). Never logged. */
    password: z.string().min(1).optional(),
    /** What a lease grants when the request names nothing. */
    grants: z.array(GrantSchema).min(1).max(20).default([{ database: 'tessera', privilege: 'WRITE' }]),
    /** When set, the only databases a request may name. */
    allowedDatabases: z.array(DatabaseNameSchema).optional(),
    /** Prefix of every leased user's name: how getAll tells ours from the rest. */
    marker: MarkerSchema.default('tessera-lease'),
    /** The deployment (hubs sharing one storage) whose tokens this service creates and sweeps: see docs/operations.md. */
    deployment: DeploymentSchema.default(DEFAULT_DEPLOYMENT),
    /** Also take tokens of the format without a deployment (made before deployments existed) for this deployment's. */
    adoptLegacyTokens: z.boolean().default(false),
    /** Database where renewals record new expiries (created by init). Never grantable. */
    metaDatabase: DatabaseNameSchema.default('tessera_leases'),
    /** Per-request timeout in ms. */
    timeout: z.number().int().positive().max(600_000).default(10_000),
  })
  .strict();
export type InfluxdbV1Options = z.input<typeof InfluxdbV1OptionsSchema>;
export type InfluxdbV1Config = z.output<typeof InfluxdbV1OptionsSchema>;

/** What a caller may put in a create request's `options`. */
export const V1CreateOptionsSchema = z.object({ grants: z.array(GrantSchema).min(1).max(20).optional() });

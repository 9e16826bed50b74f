import { z } from 'zod';
import { InvalidOptionsError } from '../errors.js';
import { AccessSchema } from '../grant.js';
import { ATTRIBUTE_NAME, templateProblem } from './placeholders.js';

/** Bounds of a policy list: it comes from configuration, but nothing outside is unbounded. */
export const POLICY_LIMITS = {
  rules: 256,
  privileges: 32,
  matchAttributes: 16,
  resourceLength: 255,
  attributeValueLength: 256,
  maxActiveLeases: 100_000,
  createsPerMinute: 60_000,
} as const;

const AttributeNameSchema = z.string().regex(ATTRIBUTE_NAME, 'an attribute name is 1 to 64 letters, digits, "_", ".", ":" or "-"');

/** A resource, possibly with `{attribute}` placeholders. */
const ResourceTemplateSchema = z
  .string()
  .min(1)
  .max(POLICY_LIMITS.resourceLength)
  .superRefine((template, ctx) => {
    const problem = templateProblem(template);
    if (problem !== undefined) ctx.addIssue({ code: 'custom', message: problem });
  });

/** `{resource, actions}`, as the hub's `grants` setting writes it, with placeholders allowed in `resource`. */
export const PolicyPrivilegeSchema = z
  .object({ resource: ResourceTemplateSchema, actions: z.array(AccessSchema).min(1).max(2) })
  .strict();

const PrivilegeListSchema = z.array(PolicyPrivilegeSchema).max(POLICY_LIMITS.privileges);

const TtlMs = z.number().int('a TTL is a whole number of milliseconds').positive('a TTL is positive');

/** TTL bounds of a rule (ms); each unset one is the hub's, and all lie within the hub's. */
export const PolicyTtlSchema = z
  .object({ default: TtlMs.optional(), min: TtlMs.optional(), max: TtlMs.optional() })
  .strict()
  .superRefine((ttl, ctx) => {
    const pairs: [keyof typeof ttl, keyof typeof ttl][] = [
      ['min', 'default'],
      ['default', 'max'],
      ['min', 'max'],
    ];
    for (const [low, high] of pairs) {
      const a = ttl[low];
      const b = ttl[high];
      if (a !== undefined && b !== undefined && a > b) ctx.addIssue({ code: 'custom', path: [high], message: `${high} must not be below ${low}` });
    }
  });

/** Quotas of a rule (each unset one is the hub's); always bounded: a rule cannot turn a quota off. */
export const PolicyQuotasSchema = z
  .object({
    maxActiveLeases: z.number().int().min(1).max(POLICY_LIMITS.maxActiveLeases).optional(),
    createsPerMinute: z.number().int().min(1).max(POLICY_LIMITS.createsPerMinute).optional(),
  })
  .strict();

/** One rule: callers whose attributes match get these privileges, TTL bounds and quotas. */
export const LeasePolicySchema = z
  .object({
    /** Every listed attribute must equal (an empty or absent `match` matches every caller). */
    match: z
      .record(AttributeNameSchema, z.string().max(POLICY_LIMITS.attributeValueLength))
      .refine((m) => Object.keys(m).length <= POLICY_LIMITS.matchAttributes, `at most ${POLICY_LIMITS.matchAttributes} attributes`)
      .default({}),
    /** What a lease gets when its request names nothing. */
    privileges: PrivilegeListSchema.min(1),
    /** What else a request may name. */
    extra: PrivilegeListSchema.default([]),
    ttl: PolicyTtlSchema.optional(),
    quotas: PolicyQuotasSchema.optional(),
  })
  .strict();
export type LeasePolicy = z.output<typeof LeasePolicySchema>;
export type LeasePolicyInput = z.input<typeof LeasePolicySchema>;

/** The hub's lease policies: a list of rules, the first that matches a caller decides. */
export const LeasePoliciesSchema = z.array(LeasePolicySchema).max(POLICY_LIMITS.rules);
export type LeasePolicies = z.output<typeof LeasePoliciesSchema>;
export type LeasePoliciesInput = z.input<typeof LeasePoliciesSchema>;

/**
 * Reads lease policies, or throws InvalidOptionsError naming each wrong field
 * by its path from `at` (e.g. `policies.0.privileges.0.actions.0`).
 */
export function parseLeasePolicies(value: unknown, at = 'policies'): LeasePolicies {
  const result = LeasePoliciesSchema.safeParse(value);
  if (result.success) return result.data;
  const issues = result.error.issues.slice(0, 10).map((issue) => `${[at, ...issue.path.map(String)].join('.')}: ${issue.message}`);
  throw new InvalidOptionsError(`invalid lease policies: ${issues.join('; ')}`);
}

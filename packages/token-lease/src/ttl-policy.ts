import { z } from 'zod';
import { InvalidOptionsError } from './errors.js';
import { InvalidRequestError } from './service-errors.js';

export const TtlPolicySchema = z
  .object({
    /** TTL of a lease whose request names none (ms). */
    defaultTtl: z.number().int().positive().default(3_600_000),
    minTtl: z.number().int().positive().default(1_000),
    /** The longest a lease may live from issue, renewals included (as Vault's max_ttl). */
    maxTtl: z.number().int().positive().default(86_400_000),
    /** Whether leases may be renewed. */
    renewable: z.boolean().default(true),
  })
  .refine((p) => p.minTtl <= p.defaultTtl && p.defaultTtl <= p.maxTtl, {
    message: 'TTLs must satisfy minTtl <= defaultTtl <= maxTtl',
  });
export type TtlPolicy = z.output<typeof TtlPolicySchema>;
export type TtlPolicyInput = z.input<typeof TtlPolicySchema>;

export function ttlPolicy(input: TtlPolicyInput = {}): TtlPolicy {
  const result = TtlPolicySchema.safeParse(input);
  if (!result.success) throw new InvalidOptionsError(`invalid TTL policy: ${result.error.issues[0]?.message ?? 'invalid'}`);
  return result.data;
}

/** The TTL a request gets: its own if within bounds, else the default; out of bounds is refused. */
export function grantedTtl(policy: TtlPolicy, requested: number | undefined): number {
  if (requested === undefined) return policy.defaultTtl;
  if (requested < policy.minTtl) throw new InvalidRequestError(`ttl ${requested} ms is below the minimum ${policy.minTtl} ms`);
  if (requested > policy.maxTtl) throw new InvalidRequestError(`ttl ${requested} ms is above the maximum ${policy.maxTtl} ms`);
  return requested;
}

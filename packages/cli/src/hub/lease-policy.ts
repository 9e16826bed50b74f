import { leaseDecisions, leaseGrant, type LeaseDecider, type OwnerQuotas, type Privilege, type TokenLeaseWorkerOptions, ttlPolicy, type TtlPolicy } from '@tessera/token-lease';
import type { HubConfig } from './hub-config.js';

/** What the hub's configuration says a caller may get: a decision per caller (grant, TTL bounds, quotas), and fair share (docs/lease-api.md, docs/security.md). */
export interface LeasePolicy {
  ttl: TtlPolicy;
  quotas: OwnerQuotas;
  decisions: LeaseDecider;
  worker: Pick<TokenLeaseWorkerOptions, 'ownerConcurrency' | 'identityRequestRate'>;
}

/**
 * Without policies, every caller: write on --influx-bucket by default, and what
 * `grants` lists on request, within the hub's TTL bounds and quotas. With
 * policies, what the first rule matching the caller's attributes says (none
 * matches: not_allowed). Throws InvalidOptionsError naming a rule that leaves
 * the hub's TTL bounds.
 */
export function leasePolicyFromConfig(config: HubConfig): LeasePolicy {
  const defaults: Privilege[] = [{ resource: config.influxBucket, access: 'write' }];
  const extra = config.grants.flatMap((g) => g.actions.map((access): Privilege => ({ resource: g.bucket, access })));
  const ttl = ttlPolicy({ defaultTtl: config.defaultTtl, minTtl: config.minTtl, maxTtl: config.maxTtl });
  const quotas = { maxActiveLeases: config.maxLeasesPerOwner, createsPerMinute: config.createsPerMinute };
  return {
    ttl,
    quotas,
    decisions: leaseDecisions(config.policies, { grant: leaseGrant(defaults, extra), ttl, quotas }),
    worker: { ownerConcurrency: config.ownerConcurrency, identityRequestRate: config.identityRequestRate },
  };
}

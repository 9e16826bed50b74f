import { type GrantPolicy, type OwnerQuotas, type Privilege, staticGrant, type TokenLeaseWorkerOptions } from '@tessera/token-lease';
import type { HubConfig } from './hub-config.js';

/** What the hub's configuration says a caller may get: grant, quotas, fair share (docs/lease-api.md). */
export interface LeasePolicy {
  grants: GrantPolicy;
  quotas: OwnerQuotas;
  worker: Pick<TokenLeaseWorkerOptions, 'ownerConcurrency'>;
}

/** Every caller: write on --influx-bucket by default, and what `grants` lists on request. */
export function leasePolicyFromConfig(config: HubConfig): LeasePolicy {
  const defaults: Privilege[] = [{ resource: config.influxBucket, access: 'write' }];
  const extra = config.grants.flatMap((g) => g.actions.map((access): Privilege => ({ resource: g.bucket, access })));
  return {
    grants: staticGrant(defaults, extra),
    quotas: { maxActiveLeases: config.maxLeasesPerOwner, createsPerMinute: config.createsPerMinute },
    worker: { ownerConcurrency: config.ownerConcurrency },
  };
}

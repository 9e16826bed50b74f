/** Per-owner bounds on creating leases (admins are exempt). 0 turns a bound off. */
export interface OwnerQuotas {
  /** Leases an owner may hold at once, creates under way included (default 100). */
  maxActiveLeases?: number;
  /** Creates an owner may make per minute, as a token bucket: a burst of this many, then one every 60/n s (default 60). */
  createsPerMinute?: number;
  /** Owners whose create rate is remembered at most (default 100,000; an owner idle for a minute is forgotten sooner). */
  maxRateOwners?: number;
}

/** Quotas when none are configured. */
export const DEFAULT_OWNER_QUOTAS = { maxActiveLeases: 100, createsPerMinute: 60, maxRateOwners: 100_000 } as const;

/** The quotas that bind one caller, settled; 0 turns one off (only the hub's own settings may). */
export interface CallerQuotas {
  maxActiveLeases: number;
  createsPerMinute: number;
}

/** The hub's quotas for every caller, with the defaults filled in. */
export function callerQuotasOf(quotas: OwnerQuotas | undefined): CallerQuotas {
  return {
    maxActiveLeases: quotas?.maxActiveLeases ?? DEFAULT_OWNER_QUOTAS.maxActiveLeases,
    createsPerMinute: quotas?.createsPerMinute ?? DEFAULT_OWNER_QUOTAS.createsPerMinute,
  };
}

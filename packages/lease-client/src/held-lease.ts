import { z } from 'zod';
import { type Lease, LeaseSchema } from '@tessera/token-lease';

/**
 * A lease as the client holds it. `validUntil` is on the client's own clock
 * (the moment the request was sent plus the ttl the hub granted), so a device
 * whose clock is off from the hub's still renews in time.
 */
export interface HeldLease {
  lease: Lease;
  /** Client clock, ms since the epoch. */
  validUntil: number;
  /** False once the hub refuses renewal or caps it at the maximum TTL: the next refresh replaces the lease. */
  renewable: boolean;
  /** The ttl the lease was created with, to notice a renewal cut short by the maximum TTL. */
  fullTtl: number;
}

export const HeldLeaseSchema = z.object({
  lease: LeaseSchema,
  validUntil: z.number().int(),
  renewable: z.boolean(),
  fullTtl: z.number().int().nonnegative(),
});

/** A lease just received from the hub, in answer to a request sent at `sentAt`. */
export function heldFrom(lease: Lease, sentAt: number, fullTtl = lease.ttl, renewable = lease.renewable): HeldLease {
  return { lease, validUntil: sentAt + lease.ttl, renewable, fullTtl };
}

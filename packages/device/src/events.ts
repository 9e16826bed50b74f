import type { Lease } from '@tessera/token-lease';

/** A lease as the device reports it: everything but the token. */
export interface LeaseInfo {
  id: string;
  issued: string;
  expires: string;
  ttl: number;
  renewable: boolean;
}

/** What a device reports; none of it carries a token value. */
export interface DeviceEvents {
  /** A lease was acquired (reason from the LeaseClient, e.g. start or after a revocation) or renewed. */
  lease: [{ lease: LeaseInfo; reason: string }];
  /** InfluxDB took a point; `replayed` when an earlier attempt to write it had failed. */
  'point-written': [{ seq: number; value: number; timestamp: number; leaseId: string; replayed: boolean }];
  /** InfluxDB answered 401 or 403 to a write made with `leaseId`; that lease is being reported. */
  'auth-failure': [{ leaseId: string; status: number; points: number }];
  /** Writes now go out with a new lease's token. */
  'token-swapped': [{ from: string; to: string }];
  /** A write failed for a reason that may pass (network, 5xx, 429, 404); it is retried after `retryIn` ms. */
  'write-failed': [{ status?: number; message: string; points: number; retryIn: number }];
  /** A point will never be written: InfluxDB rejected it, or the pending queue overflowed. */
  'point-lost': [{ seq: number; reason: string }];
  /** Secure only: a channel to the hub `hub` (its identifier) is open; again after a hub restart. */
  channel: [{ hub: string }];
  /** Secure only: the enroll token was redeemed; the device's identity is a member of the hub with these attributes. */
  enrolled: [{ identifier: string; attributes: Readonly<Record<string, string>> }];
  /** The LeaseClient could not get, renew, replace or revoke a lease (`operation`); it keeps trying while it runs. */
  'lease-failed': [{ operation: string; message: string }];
}

export interface DeviceStats {
  /** Points InfluxDB has taken. */
  pointsWritten: number;
  /** Points whose write failed and that wait to be replayed. */
  pointsFailed: number;
  /** Points that will never be written (should stay 0). */
  pointsLost: number;
  /** Points made but not yet written (including `pointsFailed`). */
  pointsPending: number;
  /** 401/403 answers from InfluxDB. */
  authFailures: number;
  /** Distinct leases whose tokens the device has written with. */
  leasesUsed: number;
  /** The lease in use now, without its token. */
  lease: LeaseInfo | undefined;
}

export interface DeviceStopOptions {
  /** How long pending points may take to be written before they are given up as lost (default: the request timeout). */
  flushTimeout?: number;
}

/** The lease without its token. */
export function leaseInfo(lease: Lease): LeaseInfo {
  return { id: lease.id, issued: lease.issued, expires: lease.expires, ttl: lease.ttl, renewable: lease.renewable };
}

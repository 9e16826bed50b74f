import { z } from 'zod';

/** A lease as it crosses the wire (docs/protocol.md §4): the token and its lifetime. */
export const LeaseSchema = z.object({
  /** The cloud service's token id. */
  id: z.string().min(1),
  /** The token itself. Never logged. */
  value: z.string(),
  /** Lifetime in milliseconds. */
  ttl: z.number().int().nonnegative(),
  tags: z.array(z.string()),
  renewable: z.boolean(),
  /** ISO 8601 UTC. */
  issued: z.string(),
  /** ISO 8601 UTC. */
  expires: z.string(),
});
export type Lease = z.infer<typeof LeaseSchema>;

/** Where a failed revocation stands while it is retried. */
export const RevocationStateSchema = z.object({
  attempts: z.number().int().nonnegative(),
  /** The last failure's message (never a token). */
  lastError: z.string(),
  /** ISO 8601 UTC of the next attempt. */
  nextAttempt: z.string(),
});
export type RevocationState = z.infer<typeof RevocationStateSchema>;

/** What storage keeps for each lease: the lease plus what the hub needs to enforce it. */
export const LeaseRecordSchema = LeaseSchema.extend({
  /** Who asked for the lease: an authenticated identity, a connection, or "anonymous". */
  owner: z.string(),
  /** The latest `expires` a renewal may reach (issued + maximum TTL). ISO 8601 UTC. */
  maxExpires: z.string(),
  /** Present while a revocation has failed and is being retried. */
  revocation: RevocationStateSchema.optional(),
});
export type LeaseRecord = z.infer<typeof LeaseRecordSchema>;

/** The public view of a record: what a caller of the lease API sees. */
export function toLease(record: LeaseRecord): Lease {
  return {
    id: record.id,
    value: record.value,
    ttl: record.ttl,
    tags: record.tags,
    renewable: record.renewable,
    issued: record.issued,
    expires: record.expires,
  };
}

/** The lease a cloud service returns for a token it created for `request` (renewable unless it says otherwise). */
export function leaseFor(request: { ttl: number; issued: Date; expires: Date }, id: string, value: string, renewable = true): Lease {
  return { id, value, ttl: request.ttl, tags: [], renewable, issued: request.issued.toISOString(), expires: request.expires.toISOString() };
}

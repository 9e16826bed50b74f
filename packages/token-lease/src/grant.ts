import { z } from 'zod';
import { InvalidOptionsError } from './errors.js';
import type { Caller } from './lease-service.js';
import { NotAllowedError } from './service-errors.js';

// The hub, not the caller, decides what a lease may do (docs/protocol.md §4): a
// grant says what a caller's lease gets by default and the most it may get; a
// create may name a subset, anything beyond is refused with `not_allowed`.

export const AccessSchema = z.enum(['read', 'write']);
export type Access = z.infer<typeof AccessSchema>;

/** One access right on one named resource of the cloud (an InfluxDB v2 bucket, a 1.x database). */
export interface Privilege {
  resource: string;
  access: Access;
}

/** A privilege a request names, with how the caller wrote it (for a refusal's message; never a resolved name). */
export interface RequestedPrivilege extends Privilege {
  asked: string;
}

/** What a caller's leases may hold. */
export interface LeaseGrant {
  /** What a lease gets when its request names nothing. */
  default: Privilege[];
  /** The most a lease may hold (always includes `default`). */
  allowed: Privilege[];
}

/**
 * Who gets what: the grant for a caller (`staticGrant`: the same for everyone;
 * lease policies by identity attributes: `policy/lease-decisions.ts`).
 */
export type GrantPolicy = (caller: Caller) => LeaseGrant | Promise<LeaseGrant>;

/** A resource and the accesses on it, as configuration writes them: `{resource, actions: ['read', 'write']}`. */
export const ResourceGrantSchema = z
  .object({ resource: z.string().min(1).max(255), actions: z.array(AccessSchema).min(1).max(2) })
  .strict();
export type ResourceGrant = z.infer<typeof ResourceGrantSchema>;

/** Privileges of `{resource, actions}` entries, one per access, without repeats. */
export function privilegesOf(entries: readonly ResourceGrant[]): Privilege[] {
  return unique(entries.flatMap((e) => e.actions.map((access) => ({ resource: e.resource, access }))));
}

/** The grant of `defaults`, plus `extra` that a request may also name. */
export function leaseGrant(defaults: readonly Privilege[], extra: readonly Privilege[] = []): LeaseGrant {
  if (defaults.length === 0) throw new InvalidOptionsError('a grant needs at least one default privilege');
  return { default: unique(defaults), allowed: unique([...defaults, ...extra]) };
}

/** A grant that is the same for every caller: `defaults`, plus `extra` that a request may also name. */
export function staticGrant(defaults: readonly Privilege[], extra: readonly Privilege[] = []): GrantPolicy {
  const grant = leaseGrant(defaults, extra);
  return () => grant;
}

/** What a lease gets: the default without a request, else the request when the grant holds every privilege of it. */
export function decidePrivileges(grant: LeaseGrant, requested: readonly RequestedPrivilege[] | undefined): Privilege[] {
  if (requested === undefined) return grant.default;
  const allowed = new Set(grant.allowed.map(key));
  for (const p of requested) {
    if (!allowed.has(key(p))) throw new NotAllowedError(`${p.access} on ${p.asked} is not granted to this caller`);
  }
  return unique(requested.map(({ resource, access }) => ({ resource, access })));
}

function key(p: Privilege): string {
  return JSON.stringify([p.resource, p.access]);
}

function unique(privileges: readonly Privilege[]): Privilege[] {
  const seen = new Map<string, Privilege>();
  for (const p of privileges) seen.set(key(p), { resource: p.resource, access: p.access });
  return [...seen.values()];
}

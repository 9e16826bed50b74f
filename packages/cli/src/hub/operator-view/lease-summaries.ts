import type { LeaseSummary } from '@tessera/console';
import type { Membership } from '@tessera/authority';
import type { LeaseDecider, LeaseRecord } from '@tessera/token-lease';

/** Who owns a lease, as the operator's view shows it: the owner's attributes now, and what its policy gives a lease. */
export interface OwnerStanding {
  attributes: Readonly<Record<string, string>>;
  privileges: LeaseSummary['privileges'];
}

const NOBODY: OwnerStanding = Object.freeze({ attributes: Object.freeze({}), privileges: [] });

/** Lease ids whose renewals are counted at most by default; past it, the oldest count is forgotten. */
const DEFAULT_COUNTED = 100_000;

/**
 * Describes lease owners for the operator's view (docs/protocol.md §8): their
 * attributes by live membership, and the default privileges their lease
 * policy gives a lease (the hub stores no lease's privileges; a lease holds
 * these, or the subset its request named). One that is no member has none.
 */
export class OwnerDirectory {
  constructor(
    private readonly membership: (identifier: string) => Promise<Membership | undefined>,
    private readonly decisions: LeaseDecider,
  ) {}

  async standing(owner: string): Promise<OwnerStanding> {
    const member = await this.membership(owner);
    if (member === undefined) return NOBODY;
    const decision = this.decisions({ owner, admin: member.admin, attributes: member.attributes });
    const privileges = (decision?.grant.default ?? []).slice(0, 64).map((p) => ({ resource: p.resource, access: p.access }));
    return { attributes: member.attributes, privileges };
  }

  /** Standings of many owners, each looked up once. */
  async standings(owners: Iterable<string>): Promise<Map<string, OwnerStanding>> {
    const unique = [...new Set(owners)];
    const found = await Promise.all(unique.map((o) => this.standing(o)));
    return new Map(unique.map((o, i) => [o, found[i]!]));
  }
}

/** Renewals this hub served per lease since it started, forgotten when the lease ends (bounded). */
export class RenewalCounts {
  private readonly counts = new Map<string, number>();

  constructor(private readonly capacity = DEFAULT_COUNTED) {}

  renewed(id: string): number {
    const n = (this.counts.get(id) ?? 0) + 1;
    this.counts.delete(id);
    this.counts.set(id, n);
    if (this.counts.size > this.capacity) {
      const oldest = this.counts.keys().next();
      if (oldest.done !== true) this.counts.delete(oldest.value);
    }
    return n;
  }

  ended(id: string): void {
    this.counts.delete(id);
  }

  of(id: string): number {
    return this.counts.get(id) ?? 0;
  }
}

/** What the operator's view says of a lease: never its value. */
export function leaseSummary(lease: Pick<LeaseRecord, 'id' | 'owner' | 'issued' | 'expires' | 'ttl'>, standing: OwnerStanding, renewals: number): LeaseSummary {
  return {
    id: lease.id,
    owner: lease.owner,
    attributes: { ...standing.attributes },
    privileges: standing.privileges,
    issued: lease.issued,
    expires: lease.expires,
    ttl: lease.ttl,
    renewals,
  };
}

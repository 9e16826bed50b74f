import { SNAPSHOT_LIMITS, type HubHealth, type LeaseSummary, type MemberSummary, type Snapshot } from '@tessera/console';
import type { Member, MemberStore } from '@tessera/authority';
import type { LeaseRecord, LeaseService } from '@tessera/token-lease';
import type { IssueHistory } from './issue-history.js';
import type { LastSeen } from './last-seen.js';
import { leaseSummary, type OwnerDirectory, type RenewalCounts } from './lease-summaries.js';

/** What a snapshot is made of. */
export interface SnapshotSources {
  service: LeaseService;
  members: Pick<MemberStore, 'members'>;
  owners: OwnerDirectory;
  renewals: RenewalCounts;
  lastSeen: LastSeen;
  history: IssueHistory;
  health: () => Promise<HubHealth>;
  now: () => number;
}

/**
 * The state of the hub an operator starts from (docs/protocol.md §8): the
 * leases in storage (soonest expiry first; those another hub issued on the
 * same storage too), members with when they were last seen and how many
 * leases they hold, health and the last hour's history, each list within
 * SNAPSHOT_LIMITS.
 */
export async function operatorSnapshot(sources: SnapshotSources): Promise<Snapshot> {
  const [records, page, health] = await Promise.all([
    sources.service.storage.getAll(),
    sources.members.members({ limit: SNAPSHOT_LIMITS.members + 1 }),
    sources.health(),
  ]);
  const held = new Map<string, number>();
  for (const r of records) held.set(r.owner, (held.get(r.owner) ?? 0) + 1);
  const now = sources.now();
  return {
    at: new Date(now).toISOString(),
    leases: await leaseList(records, sources),
    leaseCount: records.length,
    ...memberList(page, held, sources.lastSeen),
    health,
    history: sources.history.recent(now),
  };
}

async function leaseList(records: LeaseRecord[], sources: SnapshotSources): Promise<LeaseSummary[]> {
  const soonest = [...records].sort((a, b) => Date.parse(a.expires) - Date.parse(b.expires)).slice(0, SNAPSHOT_LIMITS.leases);
  const standings = await sources.owners.standings(soonest.map((r) => r.owner));
  return withinBytes(
    soonest.map((r) => leaseSummary(r, standings.get(r.owner)!, sources.renewals.of(r.id))),
    SNAPSHOT_LIMITS.leaseBytes,
  );
}

function memberList(page: Member[], held: Map<string, number>, lastSeen: LastSeen): { members: MemberSummary[]; moreMembers: boolean } {
  const summaries = page.slice(0, SNAPSHOT_LIMITS.members).map((m) => memberSummary(m, held.get(m.identifier) ?? 0, lastSeen));
  const members = withinBytes(summaries, SNAPSHOT_LIMITS.memberBytes);
  return { members, moreMembers: members.length < page.length };
}

/** A member as the operator's view shows it. */
export function memberSummary(m: Member, activeLeases: number, lastSeen: LastSeen): MemberSummary {
  const seen = lastSeen.of(m.identifier);
  return { identifier: m.identifier, attributes: { ...m.attributes }, enrolledAt: m.enrolledAt, lastSeen: seen === undefined ? null : new Date(seen).toISOString(), activeLeases };
}

/** The first items whose JSON fits in `bytes` (at least one). */
function withinBytes<T>(items: T[], bytes: number): T[] {
  let used = 0;
  const kept: T[] = [];
  for (const item of items) {
    used += Buffer.byteLength(JSON.stringify(item)) + 1;
    if (used > bytes && kept.length > 0) break;
    kept.push(item);
  }
  return kept;
}

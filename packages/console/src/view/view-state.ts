import type { HistoryMinute, HubEvent, HubHealth, LeaseSummary, MemberSummary, Snapshot } from '../protocol/operator-view.js';
import { SNAPSHOT_LIMITS } from '../protocol/operator-view-limits.js';

// What the page shows, and how each hub event changes it: one pure reducer the
// console's server keeps its copy with and the page applies to its own, so the
// two cannot drift. No schema library: the page's bundle takes none.

/** The console's link to its hub. */
export interface LinkState {
  /** The hub's identifier while a subscription is live. */
  hub: string | null;
  connected: boolean;
  /** Why it is not connected, in words (never a secret). */
  problem: string | null;
}

/** What the page shows. */
export interface ViewState {
  link: LinkState;
  /** The console server's time when this state was sent (ms since the epoch): the page corrects its clock by it. */
  serverNow: number;
  /** At most SNAPSHOT_LIMITS.leases, those that expire first as far as the view knows. */
  leases: Record<string, LeaseSummary>;
  /** Leases in the hub's storage in all (the snapshot lists at most 1,000). */
  leaseCount: number;
  /** At most SNAPSHOT_LIMITS.members. */
  members: Record<string, MemberSummary>;
  /** True when more members exist than `members` lists. */
  moreMembers: boolean;
  health: HubHealth | null;
  history: HistoryMinute[];
}

/** The events that change the view (a gap or an end makes the console subscribe again instead). */
export type ViewEvent = Extract<HubEvent, { event: 'lease_issued' | 'lease_renewed' | 'lease_revoked' | 'member_enrolled' | 'member_removed' | 'health' }>;

export function emptyView(link: LinkState, now: number): ViewState {
  return { link, serverNow: now, leases: {}, leaseCount: 0, members: {}, moreMembers: false, health: null, history: [] };
}

/** The view a snapshot gives. */
export function viewOf(snapshot: Snapshot, link: LinkState, now: number): ViewState {
  return {
    link,
    serverNow: now,
    leases: Object.fromEntries(snapshot.leases.map((l) => [l.id, l])),
    leaseCount: snapshot.leaseCount,
    members: Object.fromEntries(snapshot.members.map((m) => [m.identifier, m])),
    moreMembers: snapshot.moreMembers,
    health: snapshot.health,
    history: snapshot.history,
  };
}

export function isViewEvent(event: HubEvent): event is ViewEvent {
  return event.event !== 'gap' && event.event !== 'ended';
}

/**
 * The view after `event` (a new object; the old one is left as it was). A
 * view lists at most as many leases and members as a snapshot does, and
 * counts the rest: a lease it does not list is one of those the snapshot
 * counted when the view lists fewer than `leaseCount`, else one it has not
 * heard of. An event the snapshot already showed (it happened while the
 * snapshot was read) changes nothing when applied again.
 */
export function applyEvent(view: ViewState, event: ViewEvent): ViewState {
  switch (event.event) {
    case 'lease_issued': {
      const seen = withMember(view.members, event.lease.owner, (m) => ({ ...m, lastSeen: event.at }));
      if (Object.hasOwn(view.leases, event.lease.id)) return { ...view, leases: { ...view.leases, [event.lease.id]: event.lease }, members: seen };
      return {
        ...view,
        leases: listed(view.leases, event.lease),
        leaseCount: view.leaseCount + 1,
        members: withMember(seen, event.lease.owner, (m) => ({ ...m, activeLeases: m.activeLeases + 1 })),
        history: counted(view.history, event.at, 'issued'),
      };
    }
    case 'lease_renewed': {
      const seen = withMember(view.members, event.lease.owner, (m) => ({ ...m, lastSeen: event.at }));
      if (Object.hasOwn(view.leases, event.lease.id)) return { ...view, leases: { ...view.leases, [event.lease.id]: event.lease }, members: seen };
      // one the snapshot counted and did not list, or one another hub issued since
      const amongCounted = !listsAll(view);
      return {
        ...view,
        leases: listed(view.leases, event.lease),
        leaseCount: view.leaseCount + (amongCounted ? 0 : 1),
        members: amongCounted ? seen : withMember(seen, event.lease.owner, (m) => ({ ...m, activeLeases: m.activeLeases + 1 })),
      };
    }
    case 'lease_revoked': {
      const known = Object.hasOwn(view.leases, event.id);
      const history = counted(view.history, event.at, 'revoked');
      // one not listed: one of those counted and not listed, or one the snapshot already showed gone
      if (!known && listsAll(view)) return { ...view, history };
      const { [event.id]: _gone, ...leases } = view.leases;
      const members = withMember(view.members, event.owner, (m) => ({ ...m, activeLeases: Math.max(0, m.activeLeases - 1) }));
      return { ...view, leases, leaseCount: Math.max(0, view.leaseCount - 1), members, history };
    }
    case 'member_enrolled': {
      const { identifier } = event.member;
      if (!Object.hasOwn(view.members, identifier) && Object.keys(view.members).length >= SNAPSHOT_LIMITS.members) return { ...view, moreMembers: true };
      return { ...view, members: { ...view.members, [identifier]: event.member } };
    }
    case 'member_removed': {
      const { [event.identifier]: _gone, ...members } = view.members;
      return { ...view, members };
    }
    case 'health':
      return { ...view, health: event.health };
  }
}

/** True when the view lists every lease it counts. */
function listsAll(view: ViewState): boolean {
  return Object.keys(view.leases).length >= view.leaseCount;
}

/** `leases` with `lease` listed: while there is room, or in place of the listed one that expires last when `lease` expires before it. */
function listed(leases: Record<string, LeaseSummary>, lease: LeaseSummary): Record<string, LeaseSummary> {
  const ids = Object.keys(leases);
  if (ids.length < SNAPSHOT_LIMITS.leases) return { ...leases, [lease.id]: lease };
  let last = ids[0]!;
  for (const id of ids) if (Date.parse(leases[id]!.expires) > Date.parse(leases[last]!.expires)) last = id;
  if (Date.parse(lease.expires) >= Date.parse(leases[last]!.expires)) return leases;
  const { [last]: _dropped, ...kept } = leases;
  return { ...kept, [lease.id]: lease };
}

function withMember(members: Record<string, MemberSummary>, identifier: string, change: (m: MemberSummary) => MemberSummary): Record<string, MemberSummary> {
  const member = Object.hasOwn(members, identifier) ? members[identifier] : undefined;
  return member === undefined ? members : { ...members, [identifier]: change(member) };
}

const MINUTE = 60_000;

/** The history with one more lease counted in the minute of `at` (a new minute moves the window on). */
export function counted(history: HistoryMinute[], at: string, what: 'issued' | 'revoked'): HistoryMinute[] {
  const minute = Math.floor(Date.parse(at) / MINUTE) * MINUTE;
  const list = [...history];
  const last = list.at(-1);
  const lastMinute = last === undefined ? undefined : Date.parse(last.minute);
  if (lastMinute === undefined || minute > lastMinute) {
    // minutes without a lease in between count 0, so the chart's time axis stays even
    const from = lastMinute === undefined ? minute : Math.max(lastMinute + MINUTE, minute - (list.length - 1) * MINUTE);
    for (let m = from; m <= minute; m += MINUTE) list.push({ minute: new Date(m).toISOString(), issued: 0, revoked: 0 });
    const keep = Math.max(history.length, 1);
    list.splice(0, Math.max(0, list.length - keep));
  }
  const at_ = list.findIndex((h) => Date.parse(h.minute) === minute);
  if (at_ < 0) return list; // older than the window: not shown
  const entry = list[at_]!;
  list[at_] = { ...entry, [what]: entry[what] + 1 };
  return list;
}

import type { HistoryMinute, HubEvent, HubHealth, LeaseSummary, MemberSummary, Snapshot } from '../protocol/operator-view.js';

// What the page shows, and how each hub event changes it: one pure reducer the
// console's server keeps its copy with and the page applies to its own, so the
// two cannot drift. Types only: the page's bundle takes no schema library.

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
  leases: Record<string, LeaseSummary>;
  /** Leases in the hub's storage in all (the snapshot lists at most 1,000). */
  leaseCount: number;
  members: Record<string, MemberSummary>;
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

/** The view after `event` (a new object; the old one is left as it was). */
export function applyEvent(view: ViewState, event: ViewEvent): ViewState {
  switch (event.event) {
    case 'lease_issued':
    case 'lease_renewed': {
      const known = Object.hasOwn(view.leases, event.lease.id);
      const members = withMember(view.members, event.lease.owner, (m) => ({ ...m, lastSeen: event.at, activeLeases: m.activeLeases + (known ? 0 : 1) }));
      return {
        ...view,
        leases: { ...view.leases, [event.lease.id]: event.lease },
        leaseCount: view.leaseCount + (known ? 0 : 1),
        members,
        history: event.event === 'lease_issued' ? counted(view.history, event.at, 'issued') : view.history,
      };
    }
    case 'lease_revoked': {
      const known = Object.hasOwn(view.leases, event.id);
      const { [event.id]: _gone, ...leases } = view.leases;
      const members = known ? withMember(view.members, event.owner, (m) => ({ ...m, activeLeases: Math.max(0, m.activeLeases - 1) })) : view.members;
      return { ...view, leases, leaseCount: Math.max(0, view.leaseCount - (known ? 1 : 0)), members, history: counted(view.history, event.at, 'revoked') };
    }
    case 'member_enrolled':
      return { ...view, members: { ...view.members, [event.member.identifier]: event.member } };
    case 'member_removed': {
      const { [event.identifier]: _gone, ...members } = view.members;
      return { ...view, members };
    }
    case 'health':
      return { ...view, health: event.health };
  }
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

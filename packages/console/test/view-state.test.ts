// The view the console keeps and the page shows, and how hub events change it
// (src/view/view-state.ts): the counts and lists a user reads on the page.
import { expect } from 'chai';
import type { HubHealth, LeaseSummary, MemberSummary, Snapshot } from '../src/protocol/operator-view.js';
import { applyEvent, type ViewEvent, viewOf, type ViewState } from '../src/view/view-state.js';

const LINK = { hub: `I${'a'.repeat(64)}`, connected: true, problem: null };
const OWNER = `I${'b'.repeat(64)}`;
const T0 = Date.parse('2030-01-01T10:00:00.000Z');
const iso = (ms: number) => new Date(ms).toISOString();
const HEALTH: HubHealth = { storage: 'ok', storageName: 'memory', persistence: null, latenessP99: 0, revocationFailures: 0, insecure: false, warnings: [] };

function lease(id: string, expiresIn: number, owner = OWNER): LeaseSummary {
  return { id, owner, attributes: { role: 'device' }, privileges: [], issued: iso(T0), expires: iso(T0 + expiresIn), ttl: expiresIn, renewals: 0 };
}

function member(n: number, activeLeases = 0): MemberSummary {
  return { identifier: `I${n.toString(16).padStart(64, '0')}`, attributes: { role: 'device' }, enrolledAt: iso(T0), lastSeen: null, activeLeases };
}

/** A view from a snapshot of `leaseCount` leases of which `leases` are listed, `OWNER` holding them all. */
function viewWith(leases: LeaseSummary[], leaseCount: number): ViewState {
  const snapshot: Snapshot = {
    at: iso(T0),
    leases,
    leaseCount,
    members: [{ ...member(0), identifier: OWNER, activeLeases: leaseCount }],
    moreMembers: false,
    health: HEALTH,
    history: [{ minute: iso(T0), issued: 0, revoked: 0 }],
  };
  return viewOf(snapshot, LINK, T0);
}

let seq = 0;
const envelope = () => ({ subscription: 'f'.repeat(32), at: iso(T0 + 1_000), seq: ++seq });
const apply = (view: ViewState, events: ViewEvent[]) => events.reduce(applyEvent, view);

describe('the console’s view of a hub', () => {
  it('counts a lease the snapshot counted but did not list once, when it is renewed and when it is revoked', () => {
    // 1,500 leases in storage, the 1,000 that expire first listed (here one stands for them)
    const view = viewWith([lease('listed', 10_000)], 1_500);
    const renewed = applyEvent(view, { event: 'lease_renewed', ...envelope(), lease: lease('unlisted', 90_000) });
    expect(renewed.leaseCount, 'leases in all after a renewal').to.equal(1_500);
    expect(renewed.members[OWNER]!.activeLeases, 'the owner’s leases after a renewal').to.equal(1_500);

    const revoked = applyEvent(view, { event: 'lease_revoked', ...envelope(), id: 'another-unlisted', owner: OWNER, reason: 'expired', lateness: 3 });
    expect(revoked.leaseCount, 'leases in all after a revocation').to.equal(1_499);
    expect(revoked.members[OWNER]!.activeLeases, 'the owner’s leases after a revocation').to.equal(1_499);
  });

  it('changes nothing for a revocation the snapshot already shows, when it lists every lease', () => {
    const view = viewWith([lease('a', 10_000)], 1);
    const after = applyEvent(view, { event: 'lease_revoked', ...envelope(), id: 'gone-before-the-snapshot', owner: OWNER, reason: 'revoked' });
    expect(after.leaseCount).to.equal(1);
    expect(after.members[OWNER]!.activeLeases).to.equal(1);
  });

  it('changes nothing when an issue the snapshot already shows comes again', () => {
    const view = viewWith([lease('a', 10_000)], 1);
    const withHistory = { ...view, history: [{ minute: iso(T0), issued: 1, revoked: 0 }] };
    const after = applyEvent(withHistory, { event: 'lease_issued', ...envelope(), lease: lease('a', 10_000) });
    expect(after.leaseCount).to.equal(1);
    expect(after.members[OWNER]!.activeLeases).to.equal(1);
    expect(after.history).to.deep.equal(withHistory.history);
  });

  it('lists at most 1,000 leases, those that expire first, and 1,000 members, however many are issued and enroll', () => {
    const view = viewWith([], 0);
    const issued: ViewEvent[] = [];
    // 1,200 leases expiring later and later, then 10 that expire before all of them
    for (let i = 0; i < 1_200; i++) issued.push({ event: 'lease_issued', ...envelope(), lease: lease(`late-${i}`, 60_000 + i) });
    for (let i = 0; i < 10; i++) issued.push({ event: 'lease_issued', ...envelope(), lease: lease(`soon-${i}`, 1_000 + i) });
    const enrolled: ViewEvent[] = [];
    for (let i = 1; i <= 1_100; i++) enrolled.push({ event: 'member_enrolled', ...envelope(), member: member(i) });
    const after = apply(view, [...issued, ...enrolled]);

    const listed = Object.keys(after.leases);
    expect(listed).to.have.length(1_000);
    expect(after.leaseCount).to.equal(1_210);
    for (let i = 0; i < 10; i++) expect(listed, 'a lease that expires sooner than the listed ones').to.include(`soon-${i}`);
    expect(listed).to.not.include('late-1199');
    expect(Object.keys(after.members)).to.have.length(1_000);
    expect(after.moreMembers).to.equal(true);
  });
});

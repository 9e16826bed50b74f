import { html } from 'htm/preact';
import { ExpiryTimeline } from './expiry-timeline.js';
import { HealthPanel } from './health-panel.js';
import { IssueChart } from './issue-chart.js';
import { LeaseTable } from './lease-table.js';
import { useLiveView, useNow } from './live-view.js';
import { MemberTable } from './member-table.js';
import { TokenForm } from './token-form.js';

/** The console's page: health, leases, next expiries, the per-minute chart, members, and enrolling a device. */
export function App() {
  const live = useLiveView();
  const now = useNow(live.offset);
  if (live.loggedIn === false) {
    return html`<section class="login"><h1>Tessera console</h1><p role="alert">Not logged in. Open the login link <code>tessera console</code> printed (each link works once).</p></section>`;
  }
  const view = live.view;
  if (view === null) return html`<p>Connecting to the console…</p>`;
  const leases = Object.values(view.leases);
  return html`
    <header>
      <h1>Tessera console</h1>
      <p class=${view.link.connected ? 'status ok' : 'status bad'} role="status">${view.link.connected ? 'live' : 'reconnecting…'}</p>
    </header>
    <div class="grid">
      <${HealthPanel} health=${view.health} link=${view.link} />
      <${ExpiryTimeline} leases=${leases} now=${now} />
      <${IssueChart} history=${view.history} />
    </div>
    <${LeaseTable} leases=${leases} total=${view.leaseCount} now=${now} />
    <${MemberTable} members=${Object.values(view.members)} more=${view.moreMembers} now=${now} />
    <${TokenForm} />
  `;
}

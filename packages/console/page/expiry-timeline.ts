import { html } from 'htm/preact';
import type { LeaseSummary } from '../src/protocol/operator-view.js';
import { duration, shortId } from './format.js';

const SHOWN = 8;

/** The next expiries on one time axis: a bar per lease, as long as its time left, the longest filling the row. */
export function ExpiryTimeline(props: { leases: LeaseSummary[]; now: number }) {
  const next = props.leases
    .map((l) => ({ lease: l, left: Date.parse(l.expires) - props.now }))
    .filter((x) => x.left > 0)
    .sort((a, b) => a.left - b.left)
    .slice(0, SHOWN);
  const span = Math.max(1, ...next.map((x) => x.left));
  return html`
    <section aria-labelledby="timeline-title">
      <h2 id="timeline-title">Next expiries</h2>
      ${next.length === 0 ? html`<p class="empty">Nothing expires: no leases.</p>` : null}
      <ol class="timeline" id="timeline">
        ${next.map(
          ({ lease, left }) => html`
            <li key=${lease.id}>
              <span class="who"><code>${shortId(lease.id)}</code></span>
              <span class="track"><span class="bar" style=${{ width: `${Math.max(2, (left / span) * 100)}%` }}></span></span>
              <span class="when">${duration(left)}</span>
            </li>
          `,
        )}
      </ol>
    </section>
  `;
}

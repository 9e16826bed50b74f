import { html } from 'htm/preact';
import { useState } from 'preact/hooks';
import type { LeaseSummary } from '../src/protocol/operator-view.js';
import { ActionError, revokeLease } from './api.js';
import { attributesText, duration, shortId } from './format.js';

/** The leases, soonest expiry first: owner, bucket, time left (counting down), renewals, and a revoke button each. */
export function LeaseTable(props: { leases: LeaseSummary[]; total: number; now: number }) {
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState<string | null>(null);
  const revoke = async (id: string) => {
    setBusy(id);
    setError(null);
    try {
      await revokeLease(id);
    } catch (err) {
      setError(err instanceof ActionError ? err.message : 'the console did not answer');
    } finally {
      setBusy(null);
    }
  };
  const sorted = [...props.leases].sort((a, b) => Date.parse(a.expires) - Date.parse(b.expires));
  return html`
    <section aria-labelledby="leases-title">
      <h2 id="leases-title">Leases <span class="count">${props.total}</span></h2>
      ${props.total > props.leases.length ? html`<p class="note">Showing the ${props.leases.length} that expire first.</p>` : null}
      ${error === null ? null : html`<p class="error" role="alert">${error}</p>`}
      <div class="scroll">
        <table id="leases" class="cards">
          <thead>
            <tr><th scope="col">Lease</th><th scope="col">Owner</th><th scope="col">Bucket</th><th scope="col">Time left</th><th scope="col">Renewals</th><th scope="col"><span class="sr-only">Action</span></th></tr>
          </thead>
          <tbody>
            ${sorted.length === 0 ? html`<tr><td colspan="6" class="empty">No leases.</td></tr>` : null}
            ${sorted.map((l) => {
              const left = Date.parse(l.expires) - props.now;
              return html`
                <tr key=${l.id} data-lease-id=${l.id} data-owner=${l.owner}>
                  <td data-label="Lease"><code title=${l.id}>${shortId(l.id)}</code></td>
                  <td data-label="Owner"><code title=${l.owner}>${shortId(l.owner)}</code> <span class="attrs">${attributesText(l.attributes)}</span></td>
                  <td data-label="Bucket">${l.privileges.map((p) => `${p.resource} (${p.access})`).join(', ') || '—'}</td>
                  <td class=${left <= 0 ? 'late' : left < 10_000 ? 'soon' : ''} data-left data-label="Time left">${left <= 0 ? 'expired' : duration(left)}</td>
                  <td data-label="Renewals">${l.renewals}</td>
                  <td><button type="button" class="danger" disabled=${busy === l.id} onClick=${() => revoke(l.id)} aria-label=${`Revoke lease ${l.id}`}>Revoke</button></td>
                </tr>
              `;
            })}
          </tbody>
        </table>
      </div>
    </section>
  `;
}

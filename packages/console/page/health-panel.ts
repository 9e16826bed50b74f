import { html } from 'htm/preact';
import type { HubHealth } from '../src/protocol/operator-view.js';
import type { LinkState } from '../src/view/view-state.js';
import { shortId } from './format.js';

/** The hub's health: storage, persistence, expiry lateness p99, insecure, warnings; and the console's link to it. */
export function HealthPanel(props: { health: HubHealth | null; link: LinkState }) {
  const h = props.health;
  const persists = h?.persistence == null ? 'not said' : h.persistence.persists === true ? 'yes' : h.persistence.persists === false ? 'no' : 'unknown';
  return html`
    <section aria-labelledby="health-title" id="health">
      <h2 id="health-title">Hub health</h2>
      <dl class="health">
        <dt>Hub</dt>
        <dd class=${props.link.connected ? 'ok' : 'bad'}>${props.link.connected ? html`connected, <code title=${props.link.hub ?? ''}>${shortId(props.link.hub ?? '')}</code>` : `not connected: ${props.link.problem ?? '…'}`}</dd>
        <dt>Storage</dt>
        <dd class=${h?.storage === 'ok' ? 'ok' : 'bad'}>${h === null ? '…' : `${h.storageName}: ${h.storage}`}</dd>
        <dt>Persists</dt>
        <dd class=${persists === 'no' ? 'bad' : ''} title=${h?.persistence?.detail ?? ''}>${persists}</dd>
        <dt>Expiry lateness p99</dt>
        <dd>${h === null ? '…' : `${Math.round(h.latenessP99)} ms`}</dd>
        <dt>Revocation failures</dt>
        <dd class=${(h?.revocationFailures ?? 0) > 0 ? 'bad' : ''}>${h?.revocationFailures ?? '…'}</dd>
        <dt>Secure</dt>
        <dd class=${h?.insecure === true ? 'bad' : 'ok'}>${h === null ? '…' : h.insecure ? 'no: insecure hub' : 'yes'}</dd>
      </dl>
      ${h !== null && h.warnings.length > 0 ? html`<ul class="warnings">${h.warnings.map((w) => html`<li role="status">${w}</li>`)}</ul>` : null}
    </section>
  `;
}

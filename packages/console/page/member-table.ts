import { html } from 'htm/preact';
import { useState } from 'preact/hooks';
import type { MemberSummary } from '../src/protocol/operator-view.js';
import { ActionError, removeMember } from './api.js';
import { ago, attributesText, shortId } from './format.js';

/** The members: attributes, when enrolled, last seen, active leases; remove (asks to confirm). */
export function MemberTable(props: { members: MemberSummary[]; more: boolean; now: number }) {
  const [confirming, setConfirming] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);
  const remove = async (identifier: string) => {
    if (confirming !== identifier) return setConfirming(identifier);
    setConfirming(null);
    setError(null);
    try {
      await removeMember(identifier);
    } catch (err) {
      setError(err instanceof ActionError ? err.message : 'the console did not answer');
    }
  };
  const sorted = [...props.members].sort((a, b) => Date.parse(b.enrolledAt) - Date.parse(a.enrolledAt));
  return html`
    <section aria-labelledby="members-title">
      <h2 id="members-title">Members <span class="count">${props.members.length}${props.more ? '+' : ''}</span></h2>
      ${error === null ? null : html`<p class="error" role="alert">${error}</p>`}
      <div class="scroll">
        <table id="members" class="cards">
          <thead>
            <tr><th scope="col">Identity</th><th scope="col">Attributes</th><th scope="col">Enrolled</th><th scope="col">Last seen</th><th scope="col">Leases</th><th scope="col"><span class="sr-only">Action</span></th></tr>
          </thead>
          <tbody>
            ${sorted.length === 0 ? html`<tr><td colspan="6" class="empty">No members yet: make a bootstrap token below.</td></tr>` : null}
            ${sorted.map(
              (m) => html`
                <tr key=${m.identifier} data-member-id=${m.identifier}>
                  <td data-label="Identity"><code title=${m.identifier}>${shortId(m.identifier)}</code></td>
                  <td class="attrs" data-label="Attributes">${attributesText(m.attributes)}</td>
                  <td data-label="Enrolled">${ago(m.enrolledAt, props.now)}</td>
                  <td data-label="Last seen">${ago(m.lastSeen, props.now)}</td>
                  <td data-label="Leases">${m.activeLeases}</td>
                  <td>
                    <button type="button" class="danger" onClick=${() => remove(m.identifier)} onBlur=${() => setConfirming(null)} aria-label=${`Remove member ${m.identifier}`}>
                      ${confirming === m.identifier ? 'Confirm remove' : 'Remove'}
                    </button>
                  </td>
                </tr>
              `,
            )}
          </tbody>
        </table>
      </div>
    </section>
  `;
}

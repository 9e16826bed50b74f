import { html } from 'htm/preact';
import { useRef, useState } from 'preact/hooks';
import { ActionError, createToken, type MadeToken } from './api.js';

/** `role=device, site=north` → {role: 'device', site: 'north'}; undefined when a part is not key=value. */
export function parseAttributes(text: string): Record<string, string> | undefined {
  const pairs: [string, string][] = [];
  for (const part of text.split(/[,\s]+/).filter((p) => p !== '')) {
    const at = part.indexOf('=');
    if (at <= 0) return undefined;
    pairs.push([part.slice(0, at), part.slice(at + 1)]);
  }
  // fromEntries defines own properties: a name like __proto__ stays a name (the console refuses it anyway)
  return Object.fromEntries(pairs);
}

/**
 * Makes a bootstrap token (attributes, uses, minutes it may be redeemed) and
 * shows it once, with a copy button; "Done" forgets it (it is kept nowhere else).
 */
export function TokenForm() {
  const [attributes, setAttributes] = useState('role=device');
  const [uses, setUses] = useState(1);
  const [minutes, setMinutes] = useState(10);
  const [made, setMade] = useState<MadeToken | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [copied, setCopied] = useState(false);
  const field = useRef<HTMLInputElement>(null);
  const submit = async (e: Event) => {
    e.preventDefault();
    setError(null);
    const parsed = parseAttributes(attributes);
    if (parsed === undefined) return setError('attributes are key=value pairs, separated by commas or spaces');
    try {
      setMade(await createToken(parsed, uses, minutes));
      setCopied(false);
    } catch (err) {
      setError(err instanceof ActionError ? err.message : 'the console did not answer');
    }
  };
  const copy = async () => {
    if (made === null) return;
    try {
      await navigator.clipboard.writeText(made.token);
      setCopied(true);
    } catch {
      field.current?.select();
    }
  };
  return html`
    <section aria-labelledby="token-title">
      <h2 id="token-title">Enroll a device</h2>
      <form id="token-form" onSubmit=${submit}>
        <label>Attributes <input name="attributes" value=${attributes} onInput=${(e: Event) => setAttributes((e.target as HTMLInputElement).value)} autocomplete="off" spellcheck=${false} /></label>
        <label>Uses <input name="uses" type="number" min="1" max="10000" value=${uses} onInput=${(e: Event) => setUses(Number((e.target as HTMLInputElement).value))} /></label>
        <label>Valid for (minutes) <input name="minutes" type="number" min="1" max="43200" value=${minutes} onInput=${(e: Event) => setMinutes(Number((e.target as HTMLInputElement).value))} /></label>
        <button type="submit">Make bootstrap token</button>
      </form>
      ${error === null ? null : html`<p class="error" role="alert">${error}</p>`}
      ${made === null
        ? null
        : html`
            <div class="token" id="made-token" role="status">
              <p>Bootstrap token <code>${made.reference}</code>, valid until ${new Date(made.expires).toLocaleString()}. It is shown this once: give it to the device (<code>TESSERA_ENROLL_TOKEN</code>).</p>
              <input ref=${field} readonly value=${made.token} aria-label="the bootstrap token" id="token-value" />
              <button type="button" onClick=${copy}>${copied ? 'Copied' : 'Copy'}</button>
              <button type="button" onClick=${() => setMade(null)}>Done</button>
            </div>
          `}
    </section>
  `;
}

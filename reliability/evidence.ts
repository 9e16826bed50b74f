// What a scenario's processes printed, and every secret the scenario knows of: the
// suite's secrets figure is how many (output, secret) pairs meet, and it must be 0.
import { readFileSync } from 'node:fs';

/** Secrets shorter than this are refused: a short string would match by chance. */
const MIN_SECRET = 16;

export interface Leak {
  /** Which output (a process's label). */
  output: string;
  /** Which secret (its label, never its value). */
  secret: string;
}

export class Evidence {
  private readonly outputs = new Map<string, string[]>();
  private readonly secrets = new Map<string, string>();

  /** Keeps `chunk` as part of what `label` printed. */
  output(label: string, chunk: string | Buffer): void {
    let chunks = this.outputs.get(label);
    if (chunks === undefined) this.outputs.set(label, (chunks = []));
    chunks.push(typeof chunk === 'string' ? chunk : chunk.toString('utf8'));
  }

  /** A value that must appear in no output (a token, a bootstrap token, a password, a key). */
  secret(label: string, value: string): void {
    if (value.length < MIN_SECRET) throw new Error(`secret ${label} is shorter than ${MIN_SECRET} characters: it would match by chance`);
    this.secrets.set(value, label);
  }

  /** The private key of an identity file (its `private_key`) as a secret. */
  identityFile(label: string, file: string): void {
    const json = JSON.parse(readFileSync(file, 'utf8')) as { private_key: string };
    this.secret(`${label}'s private key`, json.private_key);
  }

  /** The private key of an identity in memory, as an identity file writes it (base64url) and as hex. */
  identity(label: string, identity: { exportPrivateKey(): Uint8Array }): void {
    const key = Buffer.from(identity.exportPrivateKey());
    this.secret(`${label}'s private key`, key.toString('base64url'));
    this.secret(`${label}'s private key (hex)`, key.toString('hex'));
  }

  /** How many secrets are known (a scan of none proves nothing). */
  get secretCount(): number {
    return this.secrets.size;
  }

  /** Bytes of output kept, over every label. */
  get outputBytes(): number {
    let n = 0;
    for (const chunks of this.outputs.values()) for (const c of chunks) n += c.length;
    return n;
  }

  /**
   * Every (output, secret) pair where the output contains the secret. A scenario learns tens
   * of thousands of lease values, and searching megabytes of output once per secret would take
   * minutes: every secret is at least MIN_SECRET long, so secrets are indexed by a hash of their
   * first MIN_SECRET characters, and a rolling hash of each output's windows is looked up once
   * per position (Rabin–Karp); only a hash that matches is compared character by character.
   */
  leaks(): Leak[] {
    const byPrefix = new Map<number, string[]>();
    for (const value of this.secrets.keys()) {
      const h = windowHash(value, 0);
      const values = byPrefix.get(h);
      if (values === undefined) byPrefix.set(h, [value]);
      else values.push(value);
    }
    const found: Leak[] = [];
    for (const [label, chunks] of this.outputs) {
      const text = chunks.join('');
      const hit = new Set<string>();
      let h = text.length >= MIN_SECRET ? windowHash(text, 0) : 0;
      for (let i = 0; i + MIN_SECRET <= text.length; i++) {
        if (i > 0) h = (Math.imul(h - Math.imul(text.charCodeAt(i - 1), HIGHEST), BASE) + text.charCodeAt(i + MIN_SECRET - 1)) | 0;
        const candidates = byPrefix.get(h);
        if (candidates !== undefined) for (const value of candidates) if (text.startsWith(value, i)) hit.add(value);
      }
      for (const [value, secret] of this.secrets) if (hit.has(value)) found.push({ output: label, secret });
    }
    return found;
  }
}

const BASE = 257;
/** BASE^(MIN_SECRET - 1), modulo 2^32: the weight of a window's first character. */
const HIGHEST = Array.from({ length: MIN_SECRET - 1 }).reduce<number>((h) => Math.imul(h, BASE), 1);

/** The hash of `text`'s MIN_SECRET characters from `from`, modulo 2^32 (as the rolling one in `leaks`). */
function windowHash(text: string, from: number): number {
  let h = 0;
  for (let k = 0; k < MIN_SECRET; k++) h = (Math.imul(h, BASE) + text.charCodeAt(from + k)) | 0;
  return h;
}

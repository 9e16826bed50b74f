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

  /** Every (output, secret) pair where the output contains the secret. */
  leaks(): Leak[] {
    const found: Leak[] = [];
    for (const [label, chunks] of this.outputs) {
      const text = chunks.join('');
      for (const [value, secret] of this.secrets) if (text.includes(value)) found.push({ output: label, secret });
    }
    return found;
  }
}

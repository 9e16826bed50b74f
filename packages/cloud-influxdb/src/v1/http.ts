import { CloudNotFoundError, CloudRejectedError, type LeaseError } from '@tessera/token-lease';
import { httpError, networkError, redact } from '../errors.js';

/** One statement's result in a /query answer. */
export interface StatementResult {
  statement_id?: number;
  error?: string;
  series?: Array<{ name?: string; columns: string[]; values?: unknown[][] }>;
}

export interface InfluxqlHttpOptions {
  url: string;
  username: string;
  password: string;
  timeout: number;
  fetch: typeof fetch;
  /** Prefix of error messages, e.g. `influxdb-v1`. */
  service: string;
}

/**
 * Speaks InfluxDB 1.x's HTTP API as an admin: one InfluxQL statement per /query
 * request (1.6 loses a failed statement's message in a multi-statement query) and /write.
 * Statements travel in the POST body, never in the URL, so access logs hold no password.
 */
export class InfluxqlHttp {
  readonly #options: InfluxqlHttpOptions;
  readonly #authorization: string;

  constructor(options: InfluxqlHttpOptions) {
    this.#options = options;
    this.#authorization = `Basic ${Buffer.from(`${options.username}:${options.password}`).toString('base64')}`;
  }

  /**
   * Runs one statement. `operation` names it in errors (the statement itself may hold a
   * password and is never quoted); `secrets` are cut from whatever InfluxDB answers.
   */
  async query(statement: string, operation: string, options: { db?: string; secrets?: string[] } = {}): Promise<StatementResult> {
    const params = new URLSearchParams();
    if (options.db !== undefined) params.set('db', options.db);
    const body = new URLSearchParams({ q: statement });
    const secrets = this.#secrets(options.secrets);
    const text = await this.#send(`/query?${params.toString()}`, body, 'application/x-www-form-urlencoded', operation, secrets);
    let parsed: { results?: StatementResult[]; error?: string };
    try {
      parsed = JSON.parse(text) as typeof parsed;
    } catch {
      throw new CloudRejectedError(`${this.#options.service} ${operation}: unreadable answer`);
    }
    if (parsed.error !== undefined) throw statementError(this.#options.service, operation, parsed.error, secrets);
    const result = parsed.results?.[0] ?? {};
    if (result.error !== undefined) throw statementError(this.#options.service, operation, result.error, secrets);
    return result;
  }

  /** Writes line protocol to `db` with millisecond precision. */
  async write(db: string, lines: string, operation: string): Promise<void> {
    const params = new URLSearchParams({ db, precision: 'ms' });
    await this.#send(`/write?${params.toString()}`, lines, 'text/plain; charset=utf-8', operation, this.#secrets());
  }

  #secrets(extra: string[] = []): string[] {
    return [this.#options.password, this.#authorization, ...extra];
  }

  async #send(path: string, body: string | URLSearchParams, contentType: string, operation: string, secrets: string[]): Promise<string> {
    let response: Response;
    let text: string;
    try {
      response = await this.#options.fetch(`${this.#options.url}${path}`, {
        method: 'POST',
        headers: { authorization: this.#authorization, 'content-type': contentType },
        body,
        signal: AbortSignal.timeout(this.#options.timeout),
      });
      text = await response.text();
    } catch (err) {
      throw networkError(this.#options.service, operation, err, secrets);
    }
    if (response.status >= 300) throw httpError(this.#options.service, operation, response.status, errorText(text), secrets);
    return text;
  }
}

/** InfluxDB 1.x error bodies are `{"error": "..."}`; fall back to the raw text, shortened. */
function errorText(text: string): string {
  try {
    const parsed = JSON.parse(text) as { error?: unknown };
    if (typeof parsed.error === 'string') return parsed.error;
  } catch {
    // not JSON
  }
  return text.trim().slice(0, 200);
}

/** A statement-level error (HTTP 200 with `error`): the user is missing, or the statement was refused. */
function statementError(service: string, operation: string, message: string, secrets: string[]): LeaseError {
  const text = redact(`${service} ${operation}: ${message}`, secrets);
  return /^user not found$/i.test(message) ? new CloudNotFoundError(text) : new CloudRejectedError(text);
}

import { CloudNotFoundError, CloudRejectedError, CloudUnavailableError, type LeaseError } from '@tessera/token-lease';

const REDACTED = '[redacted]';

/** Secrets shorter than this are not searched for: cutting every "a" would garble messages. */
const MIN_SECRET = 4;

/** Replaces every occurrence of each secret (a token, a password) in `text`. */
export function redact(text: string, secrets: Iterable<string | undefined>): string {
  let out = text;
  for (const secret of secrets) {
    if (secret !== undefined && secret.length >= MIN_SECRET) out = out.split(secret).join(REDACTED);
  }
  return out;
}

/**
 * The typed error for an HTTP answer: 404 → not found, 429 and 5xx → unavailable,
 * other statuses → rejected. `detail` is InfluxDB's own message; secrets are cut out.
 */
export function httpError(
  service: string,
  operation: string,
  status: number,
  detail: string,
  secrets: Iterable<string | undefined>,
): LeaseError {
  const message = redact(`${service} ${operation}: HTTP ${status}${detail === '' ? '' : ` ${detail}`}`, secrets);
  if (status === 404) return new CloudNotFoundError(message, status);
  if (status === 429 || status >= 500) return new CloudUnavailableError(message, status);
  return new CloudRejectedError(message, status);
}

/** The typed error for a request that got no HTTP answer (refused, reset, timed out). */
export function networkError(service: string, operation: string, err: unknown, secrets: Iterable<string | undefined>): LeaseError {
  const list = [...secrets];
  const message = redact(`${service} ${operation}: ${describe(err)}`, list);
  // A system error (ECONNREFUSED, ...) carries addresses, never request headers: safe as a cause.
  const cause = isSystemError(err) ? err : undefined;
  return new CloudUnavailableError(message, undefined, cause === undefined ? undefined : { cause });
}

/** The most useful one-line description of a network failure (fetch hides the reason in `cause`). */
function describe(err: unknown): string {
  if (!(err instanceof Error)) return 'request failed';
  if (err.name === 'TimeoutError' || err.name === 'RequestTimedOutError') return 'request timed out';
  const cause = (err as { cause?: unknown }).cause;
  if (cause instanceof Error && cause.message !== '') return `${err.message}: ${cause.message}`;
  return err.message === '' ? err.name : err.message;
}

function isSystemError(err: unknown): err is Error {
  return err instanceof Error && typeof (err as { code?: unknown }).code === 'string' && (err as { syscall?: unknown }).syscall !== undefined;
}

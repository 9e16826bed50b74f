import { LeaseError, StorageUnavailableError } from '@tessera/token-lease';

/** Replaces each secret in `text` with `***`. */
export function redact(text: string, secrets: readonly string[]): string {
  let out = text;
  for (const secret of secrets) out = out.split(secret).join('***');
  return out;
}

/** What the rest of the hub sees of a Redis failure. */
export interface FailureContext {
  where: string;
  secrets: readonly string[];
  commandTimeoutMs: number;
  /** The latest connection error, for "not connected" failures. */
  lastError: string | undefined;
}

/**
 * A StorageUnavailableError saying, in plain words, why Redis could not serve a
 * request. The original error is not attached as it is: ioredis puts command
 * arguments on it (an AUTH password, a lease's token). The cause holds only its
 * name and redacted message.
 */
export function unavailable(err: unknown, ctx: FailureContext): Error {
  if (err instanceof LeaseError) return err;
  const original = err instanceof Error ? err : new Error(String(err));
  const message = original.message;
  let reason: string;
  const detail = ctx.lastError === undefined ? '' : ` (${ctx.lastError})`;
  if (NOT_CONNECTED.test(message)) {
    reason = `not connected${detail}`;
  } else if (/Command timed out/i.test(message)) {
    reason = `no reply within ${ctx.commandTimeoutMs} ms`;
  } else if (isDisconnected(original)) {
    reason = `connection lost${detail}`;
  } else {
    reason = message;
  }
  const cause = new Error(redact(message, ctx.secrets));
  cause.name = original.name;
  return new StorageUnavailableError(redact(`Redis unavailable at ${ctx.where}: ${reason}`, ctx.secrets), { cause });
}

const NOT_CONNECTED = /enableOfflineQueue options is false|isn't ready/i;

/** True when the request failed because there is no connection (as opposed to a slow or refusing server). */
export function isDisconnected(err: unknown): boolean {
  if (!(err instanceof Error)) return false;
  return NOT_CONNECTED.test(err.message) || err.name === 'MaxRetriesPerRequestError' || /Connection is closed/i.test(err.message);
}

/** True for errors that no reconnect will cure: bad credentials or missing permissions. */
export function isAuthError(err: unknown): boolean {
  const message = err instanceof Error ? err.message : String(err);
  return /WRONGPASS|NOAUTH|NOPERM|invalid password|AUTH failed/i.test(message);
}

import { fromUtf8 } from '@tessera/core';
import { z } from 'zod';
import { FAILURE_CODES, type FailureCode } from '@tessera/token-lease';
import { LeaseProtocolError, LeaseRejectedError, LeaseUnavailableError } from './errors.js';

/**
 * What every JSON response of docs/protocol.md §4 and §6 has: `result`, and on
 * failure `code` and `message`, as the hub sent them; the other fields pass
 * through. What is read of an answer before deciding on it (here, and in
 * `tessera lease` and `tessera enroll`).
 */
export const ApiResponseSchema = z.looseObject({ result: z.enum(['success', 'failure']), code: z.string().optional(), message: z.string().optional() });

/** A failure's code as this client decides on it: one it does not know (a newer hub) or none (an older one) counts as `internal`. */
function failureCodeOf(code: string | undefined): FailureCode {
  return (FAILURE_CODES as readonly string[]).includes(code ?? '') ? (code as FailureCode) : 'internal';
}

/**
 * Failure codes worth another attempt (docs/protocol.md §4): `unavailable`
 * (the cloud or storage is down), and `internal`, which may be a one-off and
 * is retried a bounded number of times. Everything else is refused for good.
 */
const TRANSIENT_CODES: ReadonlySet<FailureCode> = new Set(['unavailable', 'internal']);

/**
 * The success fields of a hub worker's JSON answer to `action` (docs/protocol.md
 * §4, §6), checked against `schema`. A failure throws: LeaseUnavailableError
 * for a transient code (one attempt), LeaseRejectedError with the hub's code
 * and message otherwise; an answer that is not such a response throws
 * LeaseProtocolError naming `who` answered, never quoting the answer.
 */
export function decodeResponse<S extends z.ZodType>(payload: Uint8Array, action: string, who: string, schema: S): z.output<S> {
  let value: unknown;
  try {
    value = JSON.parse(fromUtf8(payload));
  } catch {
    // the parser's message quotes the text, which is not ours to repeat (it may hold a token)
    throw new LeaseProtocolError(`the ${who}'s ${action} response is not JSON`);
  }
  const base = ApiResponseSchema.safeParse(value);
  if (!base.success) throw new LeaseProtocolError(`the ${who}'s ${action} response is not an API response (${issueOf(base.error)})`);
  if (base.data.result === 'failure') {
    const message = base.data.message ?? `${action} failed without a message`;
    const code = failureCodeOf(base.data.code);
    if (TRANSIENT_CODES.has(code)) throw new LeaseUnavailableError(message, 1);
    throw new LeaseRejectedError(action, code, message);
  }
  const fields = schema.safeParse(value);
  if (!fields.success) throw new LeaseProtocolError(`the ${who}'s ${action} response is not an API response (${issueOf(fields.error)})`);
  return fields.data;
}

function issueOf(error: z.ZodError): string {
  const issue = error.issues[0];
  return `${issue?.path.join('.') ?? ''}: ${issue?.message ?? 'invalid'}`;
}

import { fromUtf8 } from '@tessera/core';
import { MAX_REQUEST_ID, type RelayFailureCode, type RelayRequest, RelayRequestSchema } from './relay-protocol.js';

/** A relay request refused: its failure code and the message the answer carries. */
export class Refusal extends Error {
  /** The request's request_id, when the refusal came before the request was read whole. */
  requestId: string | undefined;
  constructor(
    readonly failureCode: RelayFailureCode,
    message: string,
  ) {
    super(message);
  }
}

/** Reads a relay request (JSON, RelayRequestSchema); a Refusal `invalid_request` when it is none. */
export function parseRelayRequest(payload: Uint8Array): RelayRequest {
  let value: unknown;
  try {
    value = JSON.parse(fromUtf8(payload));
  } catch {
    throw new Refusal('invalid_request', 'the request is not JSON');
  }
  const parsed = RelayRequestSchema.safeParse(value);
  if (!parsed.success) {
    const refusal = new Refusal('invalid_request', `invalid request: ${parsed.error.issues[0]?.path.join('.') ?? ''} ${parsed.error.issues[0]?.message ?? ''}`.trim());
    // the answer echoes a well-formed request_id even when the rest is wrong (docs/protocol.md §4)
    const id = (value as { request_id?: unknown } | null)?.request_id;
    if (typeof id === 'string' && id.length <= MAX_REQUEST_ID) refusal.requestId = id;
    throw refusal;
  }
  return parsed.data;
}

import type { Failure, FailureCode } from './failure-code.js';
import type { Lease } from './lease.js';

/** docs/protocol.md §4 response. */
export interface LeaseResponse {
  result: 'success' | 'failure';
  lease?: Lease;
  leases?: Lease[];
  code?: FailureCode;
  message?: string;
  request_id?: string;
}

export function success(fields: { lease?: Lease; leases?: Lease[] }, requestId: string | undefined): LeaseResponse {
  return requestId === undefined ? { result: 'success', ...fields } : { result: 'success', ...fields, request_id: requestId };
}

export function failure({ code, message }: Failure, requestId: string | undefined): LeaseResponse {
  const response: LeaseResponse = { result: 'failure', code, message };
  return requestId === undefined ? response : { ...response, request_id: requestId };
}

import type { Lease } from './lease.js';

/** docs/protocol.md §4 response. */
export interface LeaseResponse {
  result: 'success' | 'failure';
  lease?: Lease;
  leases?: Lease[];
  message?: string;
  request_id?: string;
}

export function success(fields: { lease?: Lease; leases?: Lease[] }, requestId: string | undefined): LeaseResponse {
  return requestId === undefined ? { result: 'success', ...fields } : { result: 'success', ...fields, request_id: requestId };
}

export function failure(message: string, requestId: string | undefined): LeaseResponse {
  return requestId === undefined ? { result: 'failure', message } : { result: 'failure', message, request_id: requestId };
}

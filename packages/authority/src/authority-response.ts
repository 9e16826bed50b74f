import type { Failure } from '@tessera/token-lease';
import type { Member } from './member.js';

/** docs/protocol.md §6 answers: §4's shape, with each action's own fields. */
export interface AuthorityResponse extends Partial<Failure> {
  result: 'success' | 'failure';
  request_id?: string;
  identifier?: string;
  attributes?: Readonly<Record<string, string>>;
  credential?: string;
  token?: string;
  reference?: string;
  expires?: string;
  members?: Member[];
  /** The identifier to ask for the next page after (members), when more may follow. */
  next?: string;
}

export type SuccessFields = Omit<AuthorityResponse, 'result' | 'request_id' | 'code' | 'message'>;

export function success(fields: SuccessFields, requestId: string | undefined): AuthorityResponse {
  return requestId === undefined ? { result: 'success', ...fields } : { result: 'success', ...fields, request_id: requestId };
}

export function failure({ code, message }: Failure, requestId: string | undefined): AuthorityResponse {
  const response: AuthorityResponse = { result: 'failure', code, message };
  return requestId === undefined ? response : { ...response, request_id: requestId };
}

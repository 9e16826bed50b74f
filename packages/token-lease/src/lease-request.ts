import { z } from 'zod';

/** docs/protocol.md §4 requests, one schema per action. */
const RequestId = z.string().max(256).optional();
const TokenId = z.string({ error: 'token_id must be a string' }).min(1, 'token_id must not be empty').max(256);
const Ttl = z
  .number({ error: 'ttl must be a number of milliseconds' })
  .int('ttl must be a whole number of milliseconds')
  .positive('ttl must be positive');

export const CreateRequestSchema = z.object({
  action: z.literal('create'),
  request_id: RequestId,
  options: z
    .object({ ttl: Ttl.optional() }, { error: 'options must be an object' })
    .catchall(z.unknown())
    .default({}),
});
export const GetRequestSchema = z.object({ action: z.literal('get'), request_id: RequestId, token_id: TokenId });
export const RevokeRequestSchema = z.object({ action: z.literal('revoke'), request_id: RequestId, token_id: TokenId });
export const RenewRequestSchema = z.object({
  action: z.literal('renew'),
  request_id: RequestId,
  token_id: TokenId,
  ttl: Ttl.optional(),
});
export const ListRequestSchema = z.object({ action: z.literal('list'), request_id: RequestId });

export const LeaseRequestSchema = z.discriminatedUnion('action', [
  CreateRequestSchema,
  GetRequestSchema,
  RevokeRequestSchema,
  RenewRequestSchema,
  ListRequestSchema,
]);
export type LeaseRequest = z.infer<typeof LeaseRequestSchema>;

export const ACTIONS = ['create', 'get', 'revoke', 'renew', 'list'] as const;

export type ParsedRequest =
  | { ok: true; request: LeaseRequest }
  | { ok: false; message: string; requestId?: string };

/** Reads a request from a JSON payload; a failure says what is wrong, and keeps the request_id if it can. */
export function parseLeaseRequest(text: string): ParsedRequest {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    return { ok: false, message: `invalid JSON: ${(err as Error).message}` };
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    return { ok: false, message: 'a request must be a JSON object with an "action"' };
  }
  const rawId = (value as { request_id?: unknown }).request_id;
  const requestId = typeof rawId === 'string' && rawId.length <= 256 ? rawId : undefined;
  const action = (value as { action?: unknown }).action;
  if (typeof action !== 'string' || !(ACTIONS as readonly string[]).includes(action)) {
    const shown = typeof action === 'string' ? `"${action.slice(0, 64)}"` : action === undefined ? 'missing' : `a ${typeof action}`;
    return withId({ ok: false, message: `unknown action ${shown}: expected one of ${ACTIONS.join(', ')}` }, requestId);
  }
  const result = LeaseRequestSchema.safeParse(value);
  if (!result.success) {
    const issue = result.error.issues[0];
    const field = issue?.path.join('.') ?? '';
    const message = `invalid field ${field === '' ? '(request)' : field}: ${issue?.message ?? 'invalid'}`;
    return withId({ ok: false, message }, requestId);
  }
  return { ok: true, request: result.data };
}

function withId(failure: { ok: false; message: string }, requestId: string | undefined): ParsedRequest {
  return requestId === undefined ? failure : { ...failure, requestId };
}

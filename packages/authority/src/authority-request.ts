import { z } from 'zod';
import { AttributesSchema, IdentifierSchema } from './member.js';

/** The most uses and the longest lifetime a bootstrap token may be made with. */
export const TOKEN_LIMITS = { uses: 10_000, ttl: 30 * 24 * 3_600_000 } as const;

const RequestId = z.string().max(256).optional();

export const TokenOptionsSchema = z.object({
  attributes: AttributesSchema,
  uses: z.number({ error: 'uses must be a number' }).int('uses must be a whole number').min(1, 'uses must be at least 1').max(TOKEN_LIMITS.uses, `uses is at most ${TOKEN_LIMITS.uses}`).optional(),
  ttl: z.number({ error: 'ttl must be a number of milliseconds' }).int('ttl must be a whole number of milliseconds').positive('ttl must be positive').max(TOKEN_LIMITS.ttl, `ttl is at most ${TOKEN_LIMITS.ttl} ms (30 days)`).optional(),
});
export type TokenOptions = z.infer<typeof TokenOptionsSchema>;

/** docs/protocol.md §6 requests to the authority, one schema per action. */
export const AuthorityRequestSchema = z.discriminatedUnion('action', [
  // a string that is no token is refused like an unknown token, so only its type and size are checked here
  z.object({ action: z.literal('enroll'), request_id: RequestId, token: z.string({ error: 'token must be a string' }).min(1, 'token must not be empty').max(512, 'token is too long') }),
  z.object({ action: z.literal('credential'), request_id: RequestId }),
  TokenOptionsSchema.extend({ action: z.literal('create_token'), request_id: RequestId }),
  // `after`: this implementation's paging (answers carry `next` while more members follow)
  z.object({ action: z.literal('members'), request_id: RequestId, after: IdentifierSchema.optional() }),
  z.object({ action: z.literal('remove'), request_id: RequestId, identifier: IdentifierSchema }),
]);
export type AuthorityRequest = z.infer<typeof AuthorityRequestSchema>;

export const AUTHORITY_ACTIONS = ['enroll', 'credential', 'create_token', 'members', 'remove'] as const;

export type ParsedAuthorityRequest =
  | { ok: true; request: AuthorityRequest }
  | { ok: false; message: string; requestId?: string };

/**
 * Reads a request from a JSON payload. `requestId` alone is read from anything
 * that is a JSON object, so even a refusal echoes it.
 */
export function parseAuthorityRequest(text: string): ParsedAuthorityRequest {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    // the parser's message quotes the payload, which may hold a token
    return { ok: false, message: 'invalid request: the payload is not JSON' };
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    return { ok: false, message: 'invalid request: a request is a JSON object with an "action"' };
  }
  const rawId = (value as { request_id?: unknown }).request_id;
  const requestId = typeof rawId === 'string' && rawId.length <= 256 ? rawId : undefined;
  const action = (value as { action?: unknown }).action;
  if (typeof action !== 'string' || !(AUTHORITY_ACTIONS as readonly string[]).includes(action)) {
    const shown = typeof action === 'string' ? JSON.stringify(action.slice(0, 64)) : action === undefined ? 'missing' : `a ${typeof action}`;
    return withId(`invalid request: unknown action ${shown}: expected one of ${AUTHORITY_ACTIONS.join(', ')}`, requestId);
  }
  const parsed = AuthorityRequestSchema.safeParse(value);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const field = issue?.path.join('.') ?? '';
    return withId(`invalid request: ${field === '' ? '(request)' : field}: ${issue?.message ?? 'invalid'}`, requestId);
  }
  return { ok: true, request: parsed.data };
}

/** The request_id of a payload that could not be read as a request, when it has one. */
export function requestIdOf(parsed: ParsedAuthorityRequest): string | undefined {
  return parsed.ok ? parsed.request.request_id : parsed.requestId;
}

function withId(message: string, requestId: string | undefined): ParsedAuthorityRequest {
  return requestId === undefined ? { ok: false, message } : { ok: false, message, requestId };
}

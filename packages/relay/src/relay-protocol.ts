import { z } from 'zod';

/** The LOCAL address of the hub's relay service unless configured otherwise. */
export const RELAY_SERVICE = 'relay';

/** The longest request_id a request may carry (and a refusal echoes). */
export const MAX_REQUEST_ID = 128;
const RequestId = z.string().max(MAX_REQUEST_ID).optional();

/**
 * A request to the relay service (docs/protocol.md §7; JSON as in §4):
 * `create` through a secure channel (it binds the name to the caller's
 * identity and answers a one-time `ticket`), then `attach` with that ticket
 * straight over the device's own connection (which that connection becomes
 * the relay's route); `delete` through a secure channel, by the owner, frees
 * the name.
 */
export const RelayRequestSchema = z.discriminatedUnion('action', [
  z.object({ action: z.literal('create'), name: z.string().max(256), request_id: RequestId }),
  z.object({ action: z.literal('attach'), ticket: z.string().max(256), request_id: RequestId }),
  z.object({ action: z.literal('delete'), name: z.string().max(256), request_id: RequestId }),
]);
export type RelayRequest = z.output<typeof RelayRequestSchema>;

/** The failure codes the relay service answers (docs/protocol.md §7, the codes of §4). */
export const RELAY_FAILURE_CODES = ['invalid_request', 'not_found', 'not_allowed', 'quota_exceeded', 'unavailable', 'internal'] as const;
export type RelayFailureCode = (typeof RELAY_FAILURE_CODES)[number];

/** The success fields of `create`. */
export const CreatedSchema = z.object({ name: z.string(), address: z.string(), ticket: z.string(), expires: z.string() });
/** The success fields of `attach`. */
export const AttachedSchema = z.object({ name: z.string(), address: z.string() });
/** The success fields of `delete`. */
export const DeletedSchema = z.object({ name: z.string() });

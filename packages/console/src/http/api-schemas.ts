import { z } from 'zod';

// What the page may send the console's API: each body is read with one of
// these, and anything else is refused with 400.

const Identifier = z.string().regex(/^I[0-9a-f]{64}$/, 'an identifier is I and 64 lowercase hex digits');

export const RevokeBodySchema = z.strictObject({ id: z.string().min(1).max(256) });
export const RemoveMemberBodySchema = z.strictObject({ identifier: Identifier });
export const CreateTokenBodySchema = z.strictObject({
  attributes: z
    .record(z.string().regex(/^[A-Za-z0-9_.:-]{1,64}$/, 'attribute names are 1–64 letters, digits, _ . : -'), z.string().max(256))
    .refine((a) => Object.keys(a).length <= 16, 'at most 16 attributes'),
  uses: z.number().int().min(1).max(10_000),
  /** Minutes the token may be redeemed. */
  ttlMinutes: z.number().int().min(1).max(30 * 24 * 60).optional(),
});

/** The largest body the API reads (bytes). */
export const MAX_BODY_BYTES = 16 * 1024;

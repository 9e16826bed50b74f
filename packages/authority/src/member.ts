import { IDENTIFIER_PATTERN, MAX_ATTRIBUTES } from '@tessera/secure-channel';
import { z } from 'zod';

/** Someone who enrolled: its identity's identifier, the attributes its token carried, and when. */
export interface Member {
  identifier: string;
  attributes: Readonly<Record<string, string>>;
  /** ISO 8601, UTC. */
  enrolledAt: string;
}

/** Who an identifier is now, as the lease service and the authority's own checks see it. */
export interface Membership {
  identifier: string;
  attributes: Readonly<Record<string, string>>;
  admin: boolean;
}

/** The attribute that makes a member an admin, and its value. */
export const ADMIN_ATTRIBUTE = { name: 'role', value: 'admin' } as const;

/** The longest attribute name and value, and the most bytes all of a token's attributes take as JSON (they go into every credential). */
export const ATTRIBUTE_LIMITS = { name: 64, value: 256, json: 4096 } as const;

/**
 * Attributes a token gives its members: at most MAX_ATTRIBUTES short names
 * (letters, digits, `_ . : -`) with string values, small enough as JSON for
 * every credential that carries them to stay within the credential size limit.
 */
export const AttributesSchema = z
  .record(
    z
      .string()
      .regex(/^[A-Za-z0-9_.:-]+$/, 'attribute names are letters, digits, _ . : -')
      .max(ATTRIBUTE_LIMITS.name, `attribute names have at most ${ATTRIBUTE_LIMITS.name} characters`)
      // an object would take it as its prototype, not as a name
      .refine((name) => name !== '__proto__', 'an attribute cannot be named __proto__'),
    z.string({ error: 'attribute values must be strings' }).max(ATTRIBUTE_LIMITS.value, `attribute values have at most ${ATTRIBUTE_LIMITS.value} characters`),
    { error: 'attributes must be an object of strings' },
  )
  .refine((a) => Object.keys(a).length <= MAX_ATTRIBUTES, `at most ${MAX_ATTRIBUTES} attributes`)
  .refine((a) => Buffer.byteLength(JSON.stringify(a)) <= ATTRIBUTE_LIMITS.json, `attributes take at most ${ATTRIBUTE_LIMITS.json} bytes as JSON`);

export const IdentifierSchema = z.string({ error: 'identifier must be a string' }).regex(IDENTIFIER_PATTERN, 'identifier must be I followed by 64 lowercase hex digits');

/** A member as stores keep it (snapshot file, Redis values). */
export const MemberSchema = z.object({
  identifier: IdentifierSchema,
  attributes: AttributesSchema,
  enrolledAt: z.iso.datetime(),
});

/** True when these attributes make their holder an admin. */
export function grantsAdmin(attributes: Readonly<Record<string, string>>): boolean {
  return Object.hasOwn(attributes, ADMIN_ATTRIBUTE.name) && attributes[ADMIN_ATTRIBUTE.name] === ADMIN_ATTRIBUTE.value;
}

/** A frozen copy with own properties only, so a stored `__proto__` name stays a plain name. */
export function copyAttributes(attributes: Readonly<Record<string, string>>): Readonly<Record<string, string>> {
  return Object.freeze(Object.fromEntries(Object.entries(attributes)));
}

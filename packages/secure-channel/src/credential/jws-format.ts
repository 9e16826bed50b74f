import { MAX_CREDENTIAL_LENGTH } from '../handshake/payload.js';

/** The protected header we write; on reading, `alg` must be `EdDSA` and nothing critical may be asked of us. */
export const HEADER = { alg: 'EdDSA', typ: 'JWT' } as const;

/** Clock skew allowed before `iat` (docs/protocol.md §6). */
export const ISSUED_AT_SKEW_SECONDS = 60;

/** The most attributes a credential may carry. */
export const MAX_ATTRIBUTES = 64;

/** The claims of a credential (docs/protocol.md §6). */
export interface CredentialClaims {
  iss: string;
  sub: string;
  iat: number;
  exp: number;
  attrs: Record<string, string>;
}

const SEGMENT = /^[A-Za-z0-9_-]+$/;

/** base64url of UTF-8 JSON. */
export function encodeSegment(value: unknown): string {
  return Buffer.from(JSON.stringify(value), 'utf8').toString('base64url');
}

/** The three segments of a compact JWS, or undefined when it is not one (Node's base64url decoder skips bad characters, so they are checked first). */
export function splitCompact(jws: unknown): [string, string, string] | undefined {
  if (typeof jws !== 'string' || jws.length > MAX_CREDENTIAL_LENGTH) return undefined;
  const parts = jws.split('.');
  if (parts.length !== 3 || !parts.every((p) => SEGMENT.test(p))) return undefined;
  return parts as [string, string, string];
}

/** The JSON object of a segment, or undefined. */
export function decodeSegment(segment: string): Record<string, unknown> | undefined {
  try {
    const value: unknown = JSON.parse(Buffer.from(segment, 'base64url').toString('utf8'));
    return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

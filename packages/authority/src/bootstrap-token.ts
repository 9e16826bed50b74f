import { createHash, randomBytes } from 'node:crypto';

/** Random bytes in a bootstrap token (docs/protocol.md §6: at least 32). */
export const TOKEN_BYTES = 32;

/**
 * A new bootstrap token: TOKEN_BYTES random bytes in base64url (43 characters),
 * never starting with `-`: a command line (`tessera device --enroll-token T`)
 * would take it for an option.
 */
export function newBootstrapToken(): string {
  let token: string;
  do token = randomBytes(TOKEN_BYTES).toString('base64url');
  while (token.startsWith('-'));
  return token;
}

/**
 * What the hub stores of a token: the hex SHA-256 of its bytes. Undefined for a
 * string that is not canonical base64url of at least TOKEN_BYTES bytes (Node's
 * decoder skips characters it does not know, so two spellings could name one
 * token); such a string is no token, and is refused like an unknown one.
 */
export function tokenHash(token: string): string | undefined {
  if (!/^[A-Za-z0-9_-]+$/.test(token)) return undefined;
  const bytes = Buffer.from(token, 'base64url');
  if (bytes.length < TOKEN_BYTES || bytes.toString('base64url') !== token) return undefined;
  return createHash('sha256').update(bytes).digest('hex');
}

/**
 * A short name for a token that is safe to log and show: the first 12 hex
 * digits of the SHA-256 of its hash. It tells nothing of the token, and the
 * hub can compute it from a token that is presented, known or not.
 */
export function tokenReference(hash: string): string {
  return createHash('sha256').update(Buffer.from(hash, 'hex')).digest('hex').slice(0, 12);
}

/** The reference of a presented string, even one that is no token (then of its text), for logs. */
export function presentedReference(token: string): string {
  return tokenReference(tokenHash(token) ?? createHash('sha256').update(token).digest('hex'));
}

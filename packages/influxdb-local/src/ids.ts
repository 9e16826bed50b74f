import { randomBytes } from 'node:crypto';
import { ApiError } from './errors.js';

/** Makes a new InfluxDB id: 16 lowercase hex characters, never all zeros. */
export function newId(random: (size: number) => Buffer = randomBytes): string {
  for (;;) {
    const id = random(8).toString('hex');
    if (id !== '0000000000000000') return id;
  }
}

/** Makes a new API token: 64 random bytes, base64url with padding (88 characters). */
export function newToken(random: (size: number) => Buffer = randomBytes): string {
  const plain = random(64).toString('base64url');
  return plain + '='.repeat((4 - (plain.length % 4)) % 4);
}

/**
 * Checks an id the way InfluxDB decodes one (platform.IDFromString) and returns it
 * lowercased; throws the same 400 errors the real server sends.
 */
export function parseId(text: string): string {
  if (text.length !== 16) throw ApiError.invalid('id must have a length of 16 bytes');
  if (!/^[0-9a-fA-F]{16}$/.test(text)) throw ApiError.invalid('invalid ID');
  const id = text.toLowerCase();
  if (id === '0000000000000000') throw ApiError.invalid('invalid ID');
  return id;
}

/** True when `text` would decode as an id (InfluxDB then treats an org or bucket parameter as an id). */
export function looksLikeId(text: string): boolean {
  return /^[0-9a-fA-F]{16}$/.test(text) && !/^0{16}$/.test(text);
}

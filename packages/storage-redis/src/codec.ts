import { InvalidRecordError, LeaseRecordSchema, RevocationStateSchema, type LeaseRecord, type RevocationState } from '@tessera/token-lease';
import type { z } from 'zod';

// A lease is a small hash: `record` holds the lease as JSON (one string to read
// back, which is what makes listing 100,000 leases quick), `revocation` the
// state of a failing revocation as JSON, so reschedule can set it alone.

/** The record, validated, as field/value pairs for HSET; and its due time (its expiry). */
export function encodeRecord(record: LeaseRecord): { fields: string[]; due: number } {
  const checked = check(LeaseRecordSchema, record, `invalid lease record ${idOf(record)}`);
  const due = dateOf(checked.expires, `invalid lease record ${idOf(record)}: expires is not a date`);
  const lease = {
    id: checked.id,
    value: checked.value,
    ttl: checked.ttl,
    tags: checked.tags,
    renewable: checked.renewable,
    issued: checked.issued,
    expires: checked.expires,
    owner: checked.owner,
    maxExpires: checked.maxExpires,
  };
  const fields = ['record', JSON.stringify(lease)];
  if (checked.revocation !== undefined) fields.push('revocation', encodeRevocation(checked.revocation).json);
  return { fields, due };
}

/** The revocation state, validated, as JSON; and its due time (the next attempt). */
export function encodeRevocation(revocation: RevocationState): { json: string; due: number } {
  const checked = check(RevocationStateSchema, revocation, 'invalid revocation state');
  const due = dateOf(checked.nextAttempt, 'invalid revocation state: nextAttempt is not a date');
  return { json: JSON.stringify({ attempts: checked.attempts, lastError: checked.lastError, nextAttempt: checked.nextAttempt }), due };
}

/** A record from its hash, as a flat [field, value, ...] array or an object; throws on a corrupt hash. */
export function decodeRecord(hash: string[] | Record<string, string>, id: string): LeaseRecord {
  const h = Array.isArray(hash) ? pairs(hash) : hash;
  const json = (field: string): unknown => {
    const text = h[field];
    if (text === undefined) return undefined;
    try {
      return JSON.parse(text);
    } catch {
      throw new InvalidRecordError(`stored lease ${JSON.stringify(id)} is corrupt: ${field} is not JSON`);
    }
  };
  const record = json('record');
  if (typeof record !== 'object' || record === null) {
    throw new InvalidRecordError(`stored lease ${JSON.stringify(id)} is corrupt: no record`);
  }
  const candidate: Record<string, unknown> = { ...record };
  if (h['revocation'] !== undefined) candidate['revocation'] = json('revocation');
  const decoded = check(LeaseRecordSchema, candidate, `stored lease ${JSON.stringify(id)} is corrupt`);
  if (decoded.id !== id) throw new InvalidRecordError(`stored lease ${JSON.stringify(id)} is corrupt: it holds lease ${JSON.stringify(decoded.id)}`);
  return decoded;
}

function pairs(flat: string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (let i = 0; i + 1 < flat.length; i += 2) out[flat[i]!] = flat[i + 1]!;
  return out;
}

function check<S extends z.ZodType>(schema: S, value: unknown, what: string): z.infer<S> {
  const parsed = schema.safeParse(value);
  if (parsed.success) return parsed.data;
  // Paths and zod's messages only: never the values (one of them is the token).
  const issues = parsed.error.issues.map((i) => `${i.path.join('.') || '(record)'}: ${i.message}`).join('; ');
  throw new InvalidRecordError(`${what}: ${issues}`);
}

function dateOf(text: string, message: string): number {
  const ms = Date.parse(text);
  if (Number.isNaN(ms)) throw new InvalidRecordError(message);
  return ms;
}

function idOf(record: unknown): string {
  const id = (record as { id?: unknown } | null)?.id;
  return JSON.stringify(typeof id === 'string' ? id : '?');
}

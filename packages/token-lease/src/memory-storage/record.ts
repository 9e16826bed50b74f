import type { z } from 'zod';
import { InvalidRecordError } from '../errors.js';
import { LeaseRecordSchema, RevocationStateSchema, type LeaseRecord, type RevocationState } from '../lease.js';

/** The record, validated and copied, or an InvalidRecordError saying what is wrong (never the token). */
export function checkRecord(record: unknown): LeaseRecord {
  const parsed = LeaseRecordSchema.safeParse(record);
  const id = typeof (record as { id?: unknown } | null)?.id === 'string' ? (record as { id: string }).id : '?';
  if (!parsed.success) throw new InvalidRecordError(`invalid lease record ${JSON.stringify(id)}: ${describe(parsed.error)}`);
  if (Number.isNaN(Date.parse(parsed.data.expires))) {
    throw new InvalidRecordError(`invalid lease record ${JSON.stringify(id)}: expires is not a date`);
  }
  if (parsed.data.revocation !== undefined) checkRevocation(parsed.data.revocation);
  return copyRecord(parsed.data);
}

/** The revocation state, validated and copied. */
export function checkRevocation(revocation: unknown): RevocationState {
  const parsed = RevocationStateSchema.safeParse(revocation);
  if (!parsed.success) throw new InvalidRecordError(`invalid revocation state: ${describe(parsed.error)}`);
  if (Number.isNaN(Date.parse(parsed.data.nextAttempt))) {
    throw new InvalidRecordError('invalid revocation state: nextAttempt is not a date');
  }
  return { ...parsed.data };
}

/** A deep copy, so callers never share objects with the store. */
export function copyRecord(record: LeaseRecord): LeaseRecord {
  const copy: LeaseRecord = {
    id: record.id,
    value: record.value,
    ttl: record.ttl,
    tags: [...record.tags],
    renewable: record.renewable,
    issued: record.issued,
    expires: record.expires,
    owner: record.owner,
    maxExpires: record.maxExpires,
  };
  if (record.revocation !== undefined) copy.revocation = { ...record.revocation };
  return copy;
}

function describe(error: z.ZodError): string {
  return error.issues.map((issue) => `${issue.path.join('.') || '(record)'}: ${issue.message}`).join('; ');
}

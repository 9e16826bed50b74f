import { readFile } from 'node:fs/promises';
import type { z } from 'zod';
import { defineError } from './errors.js';

/** A snapshot file exists but could not be read (permissions, a directory, I/O); `cause` is the system error. */
export const SnapshotUnreadableError = defineError('SnapshotUnreadableError', 'SNAPSHOT_UNREADABLE');
export type SnapshotUnreadableError = InstanceType<typeof SnapshotUnreadableError>;
/** A snapshot file is not what its schema says (not JSON, cannot be decoded, wrong shape); the message never quotes it. */
export const SnapshotCorruptError = defineError('SnapshotCorruptError', 'SNAPSHOT_CORRUPT');
export type SnapshotCorruptError = InstanceType<typeof SnapshotCorruptError>;

export interface LoadSnapshotOptions<S extends z.ZodType> {
  /** What a valid file holds. */
  schema: S;
  /** Turns the file's bytes into JSON text (decrypts them, say); throws when it cannot. Default: UTF-8. */
  decode?: (bytes: Buffer) => string;
  /**
   * A file that is there but unreadable or corrupt: `refuse` (default) throws
   * SnapshotUnreadableError or SnapshotCorruptError; `ignore` reads it as no
   * file, after `onIgnored` heard why.
   */
  ifBad?: 'refuse' | 'ignore';
  onIgnored?: (err: SnapshotUnreadableError | SnapshotCorruptError) => void;
}

/**
 * Reads the snapshot at `path` (the counterpart of `writeFileAtomic`):
 * undefined when there is no file, else its content checked against the
 * schema. Snapshots hold tokens: no error quotes the file, not even the
 * parser's message (which would).
 */
export async function loadSnapshot<S extends z.ZodType>(path: string, options: LoadSnapshotOptions<S>): Promise<z.output<S> | undefined> {
  let bytes: Buffer;
  try {
    bytes = await readFile(path);
  } catch (err) {
    if ((err as { code?: unknown }).code === 'ENOENT') return undefined;
    const reason = (err as { code?: unknown }).code ?? (err as Error).message;
    return bad(new SnapshotUnreadableError(`${path} cannot be read: ${String(reason)}`, { cause: err }), options);
  }
  let json: unknown;
  try {
    json = JSON.parse(options.decode === undefined ? bytes.toString('utf8') : options.decode(bytes));
  } catch {
    return bad(new SnapshotCorruptError(`${path} is corrupt: ${options.decode === undefined ? 'not JSON' : 'it cannot be decoded, or is not JSON'}`), options);
  }
  const parsed = options.schema.safeParse(json);
  if (!parsed.success) {
    const first = parsed.error.issues[0];
    const where = first === undefined ? '' : `${first.path.join('.') || '(root)'}: `;
    const problem = `${where}${first?.message ?? 'invalid'} (${parsed.error.issues.length} problem(s))`;
    return bad(new SnapshotCorruptError(`${path} is corrupt: ${problem}`), options);
  }
  return parsed.data;
}

function bad<S extends z.ZodType>(err: SnapshotUnreadableError | SnapshotCorruptError, options: LoadSnapshotOptions<S>): undefined {
  if (options.ifBad !== 'ignore') throw err;
  options.onIgnored?.(err);
  return undefined;
}

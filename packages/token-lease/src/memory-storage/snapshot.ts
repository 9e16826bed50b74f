import { mkdir, readFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { z } from 'zod';
import { writeFileAtomic } from '@tessera/core';
import { LeaseRecordSchema } from '../lease.js';

const NamespaceSnapshotSchema = z.object({
  cloudService: z.string(),
  cloudServiceAddress: z.string(),
  /** Each lease with its due time (ms since epoch): claims and retries survive a restart. */
  leases: z.array(z.object({ due: z.number().finite(), record: LeaseRecordSchema })),
});
export type NamespaceSnapshot = z.infer<typeof NamespaceSnapshotSchema>;

const SnapshotSchema = z.object({
  format: z.literal('tessera-memory-storage'),
  version: z.literal(1),
  namespaces: z.array(NamespaceSnapshotSchema),
});
export type Snapshot = z.infer<typeof SnapshotSchema>;

/** Thrown by readSnapshot when the file exists but is not a valid snapshot. */
export class CorruptSnapshotError extends Error {}

/** The snapshot at `path`, or undefined when there is no file yet. */
export async function readSnapshot(path: string): Promise<Snapshot | undefined> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new CorruptSnapshotError(`not JSON (${(err as Error).message})`);
  }
  const parsed = SnapshotSchema.safeParse(json);
  if (!parsed.success) {
    const first = parsed.error.issues[0];
    const where = first === undefined ? '' : `${first.path.join('.') || '(root)'}: `;
    throw new CorruptSnapshotError(`${where}${first?.message ?? 'invalid'} (${parsed.error.issues.length} problem(s))`);
  }
  return parsed.data;
}

/** Writes the snapshot so that `path` always holds either the old or the new complete file (0600: it holds live tokens). */
export async function writeSnapshot(path: string, snapshot: Snapshot): Promise<void> {
  await mkdir(dirname(path), { recursive: true, mode: 0o700 });
  await writeFileAtomic(path, JSON.stringify(snapshot));
}

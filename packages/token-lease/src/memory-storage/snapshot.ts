import { mkdir } from 'node:fs/promises';
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

/** The file `snapshotPath` names: every namespace's leases. */
export const SnapshotSchema = z.object({
  format: z.literal('tessera-memory-storage'),
  version: z.literal(1),
  namespaces: z.array(NamespaceSnapshotSchema),
});
export type Snapshot = z.infer<typeof SnapshotSchema>;

/** Writes the snapshot so that `path` always holds either the old or the new complete file (0600: it holds live tokens). */
export async function writeSnapshot(path: string, snapshot: Snapshot): Promise<void> {
  await mkdir(dirname(path), { recursive: true, mode: 0o700 });
  await writeFileAtomic(path, JSON.stringify(snapshot));
}

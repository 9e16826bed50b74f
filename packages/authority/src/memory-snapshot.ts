import { mkdir } from 'node:fs/promises';
import { dirname } from 'node:path';
import { z } from 'zod';
import { AttributesSchema, MemberSchema } from './member.js';

/** The file memoryMemberStore keeps: members, and outstanding tokens by hash (never a token). */
export const MemberSnapshotSchema = z.object({
  format: z.literal('tessera-authority'),
  version: z.literal(1),
  members: z.array(MemberSchema),
  tokens: z.array(
    z.object({
      hash: z.string().regex(/^[0-9a-f]{64}$/),
      reference: z.string().max(64),
      attributes: AttributesSchema,
      uses: z.number().int().positive(),
      expires: z.number().finite(),
    }),
  ),
});
export type MemberSnapshot = z.infer<typeof MemberSnapshotSchema>;

/** Makes the snapshot's directory (owner only) if it is not there. */
export async function snapshotDirectory(path: string): Promise<void> {
  await mkdir(dirname(path), { recursive: true, mode: 0o700 });
}

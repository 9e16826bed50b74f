import { randomFillSync } from 'node:crypto';

const POOL_SIZE = 4096;
const ID_BYTES = 8;
const pool = Buffer.allocUnsafe(POOL_SIZE);
let used = POOL_SIZE;

/**
 * 64 random bits as 16 hex digits, from the system's CSPRNG. Bytes are drawn
 * 4 KiB at a time so an id costs a slice of a buffer, not a syscall.
 */
export function randomId64(): string {
  if (used + ID_BYTES > POOL_SIZE) {
    randomFillSync(pool);
    used = 0;
  }
  const id = pool.toString('hex', used, used + ID_BYTES);
  used += ID_BYTES;
  return id;
}
